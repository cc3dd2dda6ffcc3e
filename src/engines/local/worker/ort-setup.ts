/**
 * Loads transformers.js (which imports ONNX Runtime Web's WebGPU bundle, `ort.webgpu.min.mjs`) and
 * tells ONNX Runtime which WASM binary to run, from the files the app serves itself (never a CDN):
 * `env.backends.onnx.wasm.wasmPaths` names the Emscripten glue (.mjs) and the .wasm explicitly —
 * the plain `ort-wasm-simd-threaded` pair when the worker runs on WASM, the `.asyncify` pair
 * (which the WebGPU EP needs) on WebGPU. It also sets the thread count and runs ONNX Runtime in
 * this worker (no proxy worker).
 *
 * Measured reason for two builds (see docs/performance.md): transformers.js points ONNX Runtime at
 * the asyncify build by default because the WebGPU EP needs it, but on the WASM EP that build
 * decoded about 2x slower right after load than the plain build. A worker serves one device for
 * its whole life: the page starts a fresh worker when the device changes.
 */
import type { DeviceKind } from '../protocol';

export type Transformers = typeof import('@huggingface/transformers');
export type OrtBuild = 'plain' | 'asyncify';

const ORT_FILES: Record<OrtBuild, { mjs: string; wasm: string }> = {
  plain: { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
  asyncify: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
};

interface Loaded {
  t: Transformers;
  build: OrtBuild;
  threads: number;
}

let loaded: Loaded | null = null;

export function buildFor(device: DeviceKind): OrtBuild {
  return device === 'webgpu' ? 'asyncify' : 'plain';
}

/** What a load on one build needs before its first session, fetched and compiled (prepareRuntime). */
interface Prepared {
  t: Transformers;
  wasmUrl: string;
  mjs: string;
  binary: ArrayBuffer | null;
}

const NO_WASM_SETTINGS = 'ONNX Runtime Web did not expose its WASM settings.';
/** Preparations by `prepKey`, and the keys of those that have finished. */
const prepared = new Map<string, Promise<Prepared>>();
const ready = new Set<string>();
const prepKey = (build: OrtBuild, ortBase: string) => `${build} ${ortBase}`;

/**
 * Imports transformers.js (with ONNX Runtime Web) and fetches and compiles ONNX Runtime's .wasm
 * for `device`'s build, once per worker: the page asks for it ahead of a Load (LocalEngine.prepare,
 * the returning user's page open), and a load that finds it done skips it. A failed preparation is
 * not kept: the load tries again and reports its own error. Threads are not fixed here.
 *
 * Measured reason (2026-12-01, 135M q8 warm load through the app's store, 2 threads): this setup
 * took 150–210 ms of the worker's thread after the Load, before the first of the model's files was
 * looked up (import ~43 ms, the .wasm from Chromium's code cache ~95 ms); running it beside the
 * preflight instead gained nothing, because the worker's thread was busy with it either way.
 */
export function prepareRuntime(device: DeviceKind, ortBase: string): Promise<Prepared> {
  const build = buildFor(device);
  const key = prepKey(build, ortBase);
  let p = prepared.get(key);
  if (!p) {
    p = prepare(build, ortBase);
    prepared.set(key, p);
    p.then(() => ready.add(key), () => prepared.delete(key));
  }
  return p;
}

async function prepare(build: OrtBuild, ortBase: string): Promise<Prepared> {
  const t = await import('@huggingface/transformers');
  if (!t.env.backends.onnx.wasm) throw new Error(NO_WASM_SETTINGS);
  const files = ORT_FILES[build];
  const wasmUrl = new URL(files.wasm, ortBase).href;
  const [binary, mjs] = await Promise.all([ortBinary(wasmUrl), factoryUrl(new URL(files.mjs, ortBase).href)]);
  return { t, wasmUrl, mjs, binary };
}

/** Whether the load's build was prepared, and ready, when `setupTransformers` was first called. */
let preparedBeforeSetup: boolean | null = null;

/** True when ONNX Runtime's setup for the load was done ahead of it (prepareRuntime): LoadedInfo.runtimePrepared. */
export function runtimeWasPrepared(): boolean {
  return preparedBeforeSetup === true;
}

/**
 * Returns transformers.js set up for `device` with `threads` WASM threads. ONNX Runtime fixes its
 * build and thread pool when its first session is created, so a second call with other settings
 * is refused (the page restarts the worker instead).
 */
export async function setupTransformers(device: DeviceKind, threads: number, ortBase: string): Promise<Loaded> {
  const build = buildFor(device);
  if (loaded) {
    if (loaded.build !== build || loaded.threads !== threads) {
      throw new Error(
        `This worker already runs ONNX Runtime's ${loaded.build} build with ${loaded.threads} thread(s); a new worker is needed for ${build} with ${threads}.`,
      );
    }
    return loaded;
  }
  preparedBeforeSetup ??= ready.has(prepKey(build, ortBase));
  const { t, wasmUrl, mjs, binary } = await prepareRuntime(device, ortBase);
  const wasm = t.env.backends.onnx.wasm;
  if (!wasm) throw new Error(NO_WASM_SETTINGS);
  if (binary) wasm.wasmBinary = binary;
  wasm.wasmPaths = { mjs, wasm: wasmUrl };
  // transformers.js would fetch both files again itself (`useWasmCache`) and compile the .wasm from
  // a plain ArrayBuffer; ortBinary has done it so that Chromium's code cache applies.
  (t.env as { useWasmCache?: boolean }).useWasmCache = false;
  // Threads only work when the page is cross-origin isolated (SharedArrayBuffer); say so explicitly.
  wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  wasm.proxy = false;
  loaded = { t, build, threads };
  return loaded;
}

/** Kept for the worker's life: V8 reuses the module only while it is alive (see ortBinary). */
const compiled: WebAssembly.Module[] = [];

/**
 * ONNX Runtime's .wasm for its `wasmBinary`, compiled here first with `compileStreaming` and the
 * module kept: V8 reuses a module compiled from the same bytes in this process, so ONNX Runtime's
 * own compile of the bytes gets this one, and a streamed compile is what Chromium's code cache
 * serves and fills. Fetched from the network (the service worker leaves this file alone, because
 * what it serves from Cache Storage got no code cache in a worker), or, offline, from the copy the
 * service worker precached. Null when neither has it: ONNX Runtime then fetches it and says why.
 *
 * Measured reason (2026-11-30, 135M q8, 2 threads, the app's store, each load in a fresh worker
 * 8 s after the last was disposed, a persistent Chromium profile as a returning user has): from the
 * plain ArrayBuffer every load began in V8's baseline tier again: the warm-up's 64-token probe took
 * 321–385 ms and its first seven windows ran at up to half speed while V8 tiered up, and session
 * creation took 1.29–1.55 s. Compiled here, the loads after the first in a profile began with the
 * optimised code: probe 130–160 ms, windows at full speed from the first, creation 0.92–0.94 s,
 * warm load 3.4–3.6 s against 4.0–5.1 s; the first load was no slower (5.5–5.8 s against 5.5–5.7).
 * Served by the service worker from Cache Storage instead, the probe stayed at 346–440 ms on every
 * load.
 */
async function ortBinary(url: string): Promise<ArrayBuffer | null> {
  let res: Response | null = null;
  try {
    const r = await fetch(url);
    if (r.ok) res = r;
  } catch {
    // Offline: the precached copy below.
  }
  if (!res && typeof caches !== 'undefined') res = (await caches.match(url).catch(() => undefined)) ?? null;
  if (!res) return null;
  // A host that serves the .wasm with another MIME type fails compileStreaming: the bytes still work.
  const [module, bytes] = await Promise.all([WebAssembly.compileStreaming(res.clone()).catch(() => null), res.arrayBuffer()]);
  if (module) compiled.push(module);
  return bytes;
}

/**
 * ONNX Runtime's Emscripten factory as a Blob URL (as transformers.js loads it). Measured reason:
 * imported from its http URL, a session with 2 threads never finished creating (0% CPU, no error;
 * harness kernel worker, both scale shapes). Falls back to the URL if it cannot be fetched (ONNX
 * Runtime then reports its own error).
 */
async function factoryUrl(url: string): Promise<string> {
  try {
    const res = await fetch(url);
    if (!res.ok) return url;
    return URL.createObjectURL(new Blob([await res.text()], { type: 'text/javascript' }));
  } catch {
    return url;
  }
}
