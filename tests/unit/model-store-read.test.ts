// @vitest-environment node
/**
 * The model store reading a stored file back (src/engines/local/worker/model-store.ts `match`): a
 * file this load has verified is not assembled again when transformers.js looks it up a second
 * time (it does: its existence check, then its load). A fake Cache Storage that keeps real bytes
 * and counts its lookups.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelStore } from '../../src/engines/local/worker/model-store';
import { metaKey, partKey, type FileMeta } from '../../src/models/cache';

class BytesCache {
  readonly entries = new Map<string, Uint8Array<ArrayBuffer>>();
  lookups = 0;
  async match(key: string | { url: string }): Promise<Response | undefined> {
    const k = typeof key === 'string' ? key : key.url;
    this.lookups++;
    // Each lookup takes a while, as Cache Storage's do (a round trip to the browser process).
    await new Promise((r) => setTimeout(r, 5));
    const b = this.entries.get(k);
    return b ? new Response(b) : undefined;
  }
  async put(): Promise<void> {}
  async keys(): Promise<{ url: string }[]> {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
  async delete(key: string | { url: string }): Promise<boolean> {
    return this.entries.delete(typeof key === 'string' ? key : key.url);
  }
}

const M = 'http://hub.test/org/m/resolve/main/onnx/model.onnx';
const g = globalThis as unknown as { caches?: unknown; self?: unknown };

afterEach(() => {
  delete g.caches;
  delete g.self;
});

describe('ModelStore: a stored file read back', () => {
  it('the second lookup of a verified file reads no record or part again, same bytes', async () => {
    const cache = new BytesCache();
    g.caches = { open: async () => cache, delete: async () => true };
    g.self = { location: { href: 'http://app.test/' } };
    const parts = [3000, 3000, 3000, 1234].map((n, i) => Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 255));
    const size = parts.reduce((s, p) => s + p.length, 0);
    const meta: FileMeta = { v: 1, size, parts: parts.map((p) => p.length), etag: '"e1"', complete: true };
    cache.entries.set(metaKey(M), new TextEncoder().encode(JSON.stringify(meta)));
    parts.forEach((p, i) => cache.entries.set(partKey(M, i), p));
    const want = [...parts.flatMap((p) => [...p])];

    const store = new ModelStore('org/m', true);
    await store.open();
    await store.init([{ file: 'onnx/model.onnx', url: M, bytes: size }], size);
    cache.lookups = 0;
    const first = await store.match(M);
    expect([...new Uint8Array(await first!.arrayBuffer())]).toEqual(want);
    expect(first!.headers.get('content-length')).toBe(String(size));
    // The record, then the four parts.
    expect(cache.lookups).toBe(1 + parts.length);

    const second = await store.match(M);
    expect(cache.lookups).toBe(1 + parts.length);
    expect([...new Uint8Array(await second!.arrayBuffer())]).toEqual(want);
    expect((await store.report()).source).toBe('cache');
  });

  it('a part gone missing: not used, removed, said, and nothing is remembered as verified', async () => {
    const cache = new BytesCache();
    g.caches = { open: async () => cache, delete: async () => true };
    g.self = { location: { href: 'http://app.test/' } };
    const meta: FileMeta = { v: 1, size: 20, parts: [10, 10], etag: '"e1"', complete: true };
    cache.entries.set(metaKey(M), new TextEncoder().encode(JSON.stringify(meta)));
    cache.entries.set(partKey(M, 0), new Uint8Array(10));
    const store = new ModelStore('org/m', true);
    await store.open();
    await store.init([{ file: 'onnx/model.onnx', url: M, bytes: 20 }], 20);
    expect(await store.match(M)).toBeUndefined();
    expect(await store.match(M)).toBeUndefined();
    expect((await store.report()).notes.join(' ')).toMatch(/could not be used \(part 2 is missing\)/);
  });
});
