// @vitest-environment node
// Readying ONNX Runtime before the Load: the worker's prepareRuntime (once per build, a failure not
// kept, what setupTransformers then finds), the store check that decides whether the page asks for
// it (isFileStored), and the page's side (prepareIfStored).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isFileStored, metaKey, MODEL_CACHE } from '../../src/models/cache';
import { prepareIfStored } from '../../src/engines/local/prepare';
import type { LocalEngine } from '../../src/engines/local/LocalEngine';
import { fileUrl, locate } from '../../src/models/sources';

const fake = { env: { backends: { onnx: { wasm: {} as Record<string, unknown> | undefined } } } as Record<string, unknown> & { backends: { onnx: { wasm?: Record<string, unknown> } } } };
vi.mock('@huggingface/transformers', () => fake);

const g = globalThis as unknown as { self?: unknown; caches?: unknown };
const ORT_BASE = 'http://app.test/ort/';

describe("the worker's prepareRuntime and setupTransformers", () => {
  let fetched: string[];
  beforeEach(() => {
    vi.resetModules();
    fake.env = { backends: { onnx: { wasm: {} } } };
    fetched = [];
    g.self = { crossOriginIsolated: true };
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(String(url));
      return new Response(new Uint8Array([0, 97, 115, 109]), { headers: { 'content-type': 'text/plain' } });
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    delete g.self;
  });

  it('prepares once per build; a load after it finds it ready and sets its threads', async () => {
    const m = await import('../../src/engines/local/worker/ort-setup');
    const a = m.prepareRuntime('wasm', ORT_BASE);
    expect(m.prepareRuntime('wasm', ORT_BASE)).toBe(a);
    await a;
    expect(fetched.sort()).toEqual([`${ORT_BASE}ort-wasm-simd-threaded.mjs`, `${ORT_BASE}ort-wasm-simd-threaded.wasm`]);
    const { build, threads } = await m.setupTransformers('wasm', 2, ORT_BASE);
    expect([build, threads]).toEqual(['plain', 2]);
    expect(m.runtimeWasPrepared()).toBe(true);
    // Nothing fetched again, and ONNX Runtime gets the prepared bytes and paths.
    expect(fetched).toHaveLength(2);
    const wasm = fake.env.backends.onnx.wasm!;
    expect(wasm['numThreads']).toBe(2);
    expect(wasm['proxy']).toBe(false);
    expect(new Uint8Array(wasm['wasmBinary'] as ArrayBuffer)).toEqual(new Uint8Array([0, 97, 115, 109]));
    expect((wasm['wasmPaths'] as { wasm: string }).wasm).toBe(`${ORT_BASE}ort-wasm-simd-threaded.wasm`);
  });

  it('a load without it (or before it finished) says so, and WebGPU gets the asyncify build', async () => {
    const m = await import('../../src/engines/local/worker/ort-setup');
    const inFlight = m.prepareRuntime('webgpu', ORT_BASE);
    const s = await m.setupTransformers('webgpu', 1, ORT_BASE);
    await inFlight;
    expect(s.build).toBe('asyncify');
    expect(m.runtimeWasPrepared()).toBe(false);
    expect(fetched.filter((u) => u.endsWith('.asyncify.wasm'))).toHaveLength(1);
  });

  it('a failed preparation is not kept: the next call tries again', async () => {
    const m = await import('../../src/engines/local/worker/ort-setup');
    fake.env = { backends: { onnx: {} } };
    await expect(m.prepareRuntime('wasm', ORT_BASE)).rejects.toThrow(/did not expose its WASM settings/);
    fake.env = { backends: { onnx: { wasm: {} } } };
    await expect(m.prepareRuntime('wasm', ORT_BASE)).resolves.toMatchObject({ wasmUrl: `${ORT_BASE}ort-wasm-simd-threaded.wasm` });
    await m.setupTransformers('wasm', 1, ORT_BASE);
    expect(m.runtimeWasPrepared()).toBe(true);
  });
});

/** A Cache Storage with one cache of `entries` (key → body); `has` and `open` are counted. */
function fakeCaches(entries: Map<string, string> | null, failMatch = false) {
  const calls = { has: 0, open: 0 };
  g.caches = {
    has: async (name: string) => (calls.has++, name === MODEL_CACHE && entries !== null),
    open: async () => {
      calls.open++;
      return {
        match: async (key: string) => {
          if (failMatch) throw new Error('disk gone');
          const body = entries?.get(key);
          return body === undefined ? undefined : new Response(body);
        },
      };
    },
  };
  return calls;
}

const URL_A = 'http://hub.test/org/m/resolve/main/onnx/model_q4.onnx';
const meta = (complete: boolean) => JSON.stringify({ v: 1, size: 10, parts: [10], etag: null, complete });

describe('isFileStored', () => {
  afterEach(() => delete g.caches);

  it('true only for a whole stored file', async () => {
    fakeCaches(new Map([[metaKey(URL_A), meta(true)]]));
    expect(await isFileStored(URL_A)).toBe(true);
    expect(await isFileStored('http://hub.test/org/m/resolve/main/onnx/model.onnx')).toBe(false);
    fakeCaches(new Map([[metaKey(URL_A), meta(false)]]));
    expect(await isFileStored(URL_A)).toBe(false);
    fakeCaches(new Map([[metaKey(URL_A), 'not json']]));
    expect(await isFileStored(URL_A)).toBe(false);
  });

  it('does not create the cache when there is none, and a failing cache or no Cache Storage is "not stored"', async () => {
    const calls = fakeCaches(null);
    expect(await isFileStored(URL_A)).toBe(false);
    expect(calls).toEqual({ has: 1, open: 0 });
    fakeCaches(new Map([[metaKey(URL_A), meta(true)]]), true);
    expect(await isFileStored(URL_A)).toBe(false);
    delete g.caches;
    expect(await isFileStored(URL_A)).toBe(false);
  });
});

describe('prepareIfStored (the page side)', () => {
  afterEach(() => delete g.caches);
  const source = { type: 'hub' as const, modelId: 'org/m', revision: 'main' };
  const urls = { appBase: 'http://app.test/', ortBase: ORT_BASE };
  const stored = () => fakeCaches(new Map([[metaKey(fileUrl(locate(source, urls.appBase), 'onnx/model_q4.onnx')), meta(true)]]));
  const engine = (fails = false) => {
    const prepare = vi.fn(async () => {
      if (fails) throw new Error('no wasm');
    });
    return { e: { prepare } as unknown as LocalEngine, prepare };
  };

  it('asks a worker to prepare for a stored model, with its device and ONNX Runtime base', async () => {
    stored();
    const { e, prepare } = engine();
    const asked = await prepareIfStored(e, { source, dtype: 'q4', device: 'wasm' }, urls);
    expect(prepare).toHaveBeenCalledWith('wasm', ORT_BASE);
    expect(await asked?.done).toBe(true);
    const failing = engine(true);
    expect(await (await prepareIfStored(failing.e, { source, dtype: 'q4', device: 'webgpu' }, urls))?.done).toBe(false);
  });

  it('does not ask for a model not stored (another dtype), nor once the page moved on', async () => {
    stored();
    const { e, prepare } = engine();
    expect(await prepareIfStored(e, { source, dtype: 'q8', device: 'wasm' }, urls)).toBeNull();
    expect(await prepareIfStored(e, { source, dtype: 'q4', device: 'wasm' }, urls, () => false)).toBeNull();
    expect(prepare).not.toHaveBeenCalled();
  });
});
