// @vitest-environment node
/**
 * A file the model store downloads, as transformers.js itself fetches it (its `env.fetch` and
 * `env.customCache` point at the store, as in the model worker: load.ts): transformers.js looks the
 * file up once more before its put, and where that finds nothing it copies the whole file into a new
 * Response for the put (an 862 MB model: 4.5 s of a first visit's load on this VM, model-store.ts
 * `beingStored`). Real transformers.js (AutoConfig), a fake Cache Storage that keeps real bytes, a
 * fetch that serves one file.
 */
import { AutoConfig, env } from '@huggingface/transformers';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/engines/local/worker/model-store';

class BytesCache {
  readonly entries = new Map<string, Uint8Array>();
  refuse: ((key: string) => boolean) | null = null;
  async put(key: string | { url: string }, res: Response): Promise<void> {
    const k = typeof key === 'string' ? key : key.url;
    if (this.refuse?.(k)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.entries.set(k, new Uint8Array(await res.arrayBuffer()));
  }
  async match(key: string | { url: string }): Promise<Response | undefined> {
    const b = this.entries.get(typeof key === 'string' ? key : key.url);
    return b ? new Response(b.slice()) : undefined;
  }
  async keys(): Promise<{ url: string }[]> {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
  async delete(key: string | { url: string }): Promise<boolean> {
    return this.entries.delete(typeof key === 'string' ? key : key.url);
  }
}

const HOST = 'http://hub.test/';
const C = `${HOST}org/m/resolve/main/config.json`;
// A config of ~300 KB (a padding field), so that a copy of it is told from the store's small records.
const CONFIG = new TextEncoder().encode(JSON.stringify({ model_type: 'llama', vocab_size: 49152, pad: 'x'.repeat(300_000) }));
const realFetch = globalThis.fetch;
const RealResponse = globalThis.Response;
const g = globalThis as unknown as { caches?: unknown; self?: unknown };
const saved = { fetch: env.fetch, allowLocalModels: env.allowLocalModels, allowRemoteModels: env.allowRemoteModels, remoteHost: env.remoteHost, useBrowserCache: env.useBrowserCache, useFSCache: env.useFSCache, useCustomCache: env.useCustomCache, customCache: env.customCache };

afterEach(() => {
  globalThis.fetch = realFetch;
  globalThis.Response = RealResponse;
  Object.assign(env, saved);
  delete g.caches;
  delete g.self;
});

/** Serves config.json (a Range request gets its slice, as a hub answers transformers.js's probes); counts the GETs of the whole file. */
function serve(): { whole: number } {
  const n = { whole: 0 };
  globalThis.fetch = (async (u: string | URL, init?: RequestInit) => {
    if (String(u) !== C) return new RealResponse('not found', { status: 404 });
    const range = /bytes=(\d+)-(\d*)/.exec(new Headers(init?.headers).get('range') ?? '');
    if (range) {
      const from = Number(range[1]);
      const to = range[2] ? Number(range[2]) + 1 : CONFIG.length;
      return new RealResponse(CONFIG.slice(from, to), { status: 206, headers: { 'content-range': `bytes ${from}-${to - 1}/${CONFIG.length}`, 'content-length': String(to - from), etag: '"c1"' } });
    }
    n.whole++;
    return new RealResponse(CONFIG.slice(), { headers: { 'content-length': String(CONFIG.length), etag: '"c1"' } });
  }) as typeof fetch;
  return n;
}

/** Counts every Response made over a buffer of config.json's size while `run` runs (instanceof still holds). */
async function copiesDuring<T>(run: () => Promise<T>): Promise<{ value: T; copies: number }> {
  let copies = 0;
  globalThis.Response = new Proxy(RealResponse, {
    construct(target, args: ConstructorParameters<typeof Response>) {
      const body = args[0];
      if ((ArrayBuffer.isView(body) || body instanceof ArrayBuffer) && body.byteLength === CONFIG.length) copies++;
      return Reflect.construct(target, args);
    },
  });
  try {
    return { value: await run(), copies };
  } finally {
    globalThis.Response = RealResponse;
  }
}

/** Whether `b` holds config.json's bytes (toEqual walks 300,000 elements for seconds). */
const sameBytes = (b: ArrayBuffer) => Buffer.from(b).equals(CONFIG);

async function storeFor(cache: BytesCache): Promise<ModelStore> {
  g.caches = { open: async () => cache, delete: async () => true };
  g.self = { location: { href: 'http://app.test/' } };
  const store = new ModelStore('org/m', true);
  await store.open();
  await store.init([{ file: 'config.json', url: C, bytes: CONFIG.length }], CONFIG.length);
  Object.assign(env, { fetch: store.fetch, allowLocalModels: false, allowRemoteModels: true, remoteHost: HOST, useBrowserCache: false, useFSCache: false, useCustomCache: true, customCache: store });
  return store;
}

describe('ModelStore: a download as transformers.js fetches it', () => {
  it('transformers.js makes no copy of the downloaded file for its put; the copy is stored and reads back whole', async () => {
    const cache = new BytesCache();
    const store = await storeFor(cache);
    const served = serve();
    const { value: config, copies } = await copiesDuring(() => AutoConfig.from_pretrained('org/m'));
    expect((config as unknown as { vocab_size: number }).vocab_size).toBe(49152);
    expect(served.whole).toBe(1);
    expect(copies).toBe(0);
    const report = await store.report();
    expect(report.source).toBe('network');
    expect(report.stored).toBe(true);
    // Anyone who reads what the second look found gets the stored bytes, whole or streamed.
    const again = await store.match(C);
    expect(again).toBeDefined();
    expect(again!.headers.get('content-length')).toBe(String(CONFIG.length));
    expect(sameBytes(await again!.arrayBuffer())).toBe(true);
    expect(sameBytes(await new RealResponse((await store.match(C))!.body).arrayBuffer())).toBe(true);
    expect(served.whole).toBe(1);
    // Still a download, not a read from the store.
    expect((await store.report()).source).toBe('network');
  });

  it('a download the browser refused to store: the second look finds nothing, and the load still gets its bytes', async () => {
    const cache = new BytesCache();
    cache.refuse = (key) => key.startsWith(C);
    const store = await storeFor(cache);
    serve();
    const { value: config } = await copiesDuring(() => AutoConfig.from_pretrained('org/m'));
    expect((config as unknown as { vocab_size: number }).vocab_size).toBe(49152);
    const report = await store.report();
    expect(report.stored).toBe(false);
    expect(report.reason).toMatch(/config\.json/);
    expect(await store.match(C)).toBeUndefined();
    expect([...cache.entries.keys()]).toEqual([]);
  });
});
