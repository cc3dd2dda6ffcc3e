// @vitest-environment node
/**
 * The model store when the browser refuses a put while another file's writes are still under way (seen
 * on a fresh CI machine: a model over the quota left one 79-byte record of generation_config.json behind,
 * written after the refusal's clean-up had listed the cache). A fake Cache Storage, gated, makes that
 * order certain: nothing of the model may stay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/engines/local/worker/model-store';
import { metaKey } from '../../src/models/cache';

class FakeCache {
  readonly entries = new Map<string, number>();
  /** Puts whose key matches wait for `release()`. */
  hold: ((key: string) => boolean) | null = null;
  refuse: ((key: string) => boolean) | null = null;
  private waiting: (() => void)[] = [];
  held = 0;
  release(): void {
    for (const w of this.waiting.splice(0)) w();
  }
  async put(key: string, res: Response): Promise<void> {
    if (this.refuse?.(key)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const size = (await res.arrayBuffer()).byteLength;
    if (this.hold?.(key)) {
      this.held++;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    this.entries.set(key, size);
  }
  async match(key: string | { url: string }): Promise<Response | undefined> {
    const k = typeof key === 'string' ? key : key.url;
    return this.entries.has(k) ? new Response('{}') : undefined;
  }
  async keys(): Promise<{ url: string }[]> {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
  async delete(key: string | { url: string }): Promise<boolean> {
    return this.entries.delete(typeof key === 'string' ? key : key.url);
  }
}

const HOST = 'http://hub.test/org/m/resolve/main/';
const G = `${HOST}generation_config.json`;
const M = `${HOST}onnx/model.onnx`;
const realFetch = globalThis.fetch;
const g = globalThis as unknown as { caches?: unknown; self?: unknown };

afterEach(() => {
  globalThis.fetch = realFetch;
  delete g.caches;
  delete g.self;
});

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ModelStore: a refused put while another file is still being written', () => {
  it('leaves nothing of the model in the cache (the late record is removed too) and says why', async () => {
    const cache = new FakeCache();
    g.caches = { open: async () => cache, delete: async () => true };
    g.self = { location: { href: 'http://app.test/' } };
    const bodies: Record<string, Uint8Array<ArrayBuffer>> = { [G]: new Uint8Array(79), [M]: new Uint8Array(4096) };
    globalThis.fetch = (async (u: string | URL) => {
      const b = bodies[String(u)]!;
      return new Response(b, { headers: { 'content-length': String(b.length) } });
    }) as typeof fetch;
    const store = new ModelStore('org/m', true);
    await store.open();
    await store.init([{ file: 'generation_config.json', url: G, bytes: 79 }, { file: 'onnx/model.onnx', url: M, bytes: 4096 }], 79 + 4096);
    // generation_config.json: its part is stored, its record's put waits.
    cache.hold = (key) => key === metaKey(G);
    await (await store.fetch(G)).arrayBuffer();
    while (cache.held === 0) await tick();
    expect(cache.entries.size).toBe(1);
    // The weights: the browser refuses the first put; the clean-up runs while the record is still on its way.
    cache.refuse = (key) => key.startsWith(M);
    await (await store.fetch(M)).arrayBuffer();
    await tick();
    cache.release();
    const report = await store.report();
    expect(report.stored).toBe(false);
    // The model is named with its size, then the file the browser refused.
    expect(report.reason).toMatch(/^Not cached: org\/m \(4.1 KB\) does not fit this site's storage quota: the browser refused to store onnx\/model\.onnx \(4.0 KB\)/);
    expect([...cache.entries.keys()]).toEqual([]);
  });
});
