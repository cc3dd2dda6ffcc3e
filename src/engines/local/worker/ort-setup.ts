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
  const t = await import('@huggingface/transformers');
  const wasm = t.env.backends.onnx.wasm;
  if (!wasm) throw new Error('ONNX Runtime Web did not expose its WASM settings.');
  const files = ORT_FILES[build];
  wasm.wasmPaths = { mjs: new URL(files.mjs, ortBase).href, wasm: new URL(files.wasm, ortBase).href };
  // Threads only work when the page is cross-origin isolated (SharedArrayBuffer); say so explicitly.
  wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  wasm.proxy = false;
  loaded = { t, build, threads };
  return loaded;
}
