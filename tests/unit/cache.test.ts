import { describe, expect, it } from 'vitest';
import { groupCachedFiles, listCachedModels, MODEL_CACHE, storageEstimate } from '../../src/models/cache';

const HF = 'https://huggingface.co';

describe('groupCachedFiles', () => {
  it('empty → empty', () => {
    expect(groupCachedFiles([])).toEqual([]);
  });

  it('groups hub URLs per model and revision, summing bytes', () => {
    const groups = groupCachedFiles([
      { url: `${HF}/org/name/resolve/main/config.json`, bytes: 100 },
      { url: `${HF}/org/name/resolve/main/onnx/model_q4.onnx`, bytes: 5000 },
      { url: `${HF}/org/name/resolve/dev/onnx/model_q4.onnx`, bytes: 4000 },
      { url: `${HF}/org/other/resolve/main/config.json`, bytes: 50 },
    ]);
    expect(groups.map((g) => g.key)).toEqual([`${HF}/org/name@main`, `${HF}/org/name@dev`, `${HF}/org/other@main`]);
    const main = groups[0];
    expect(main).toMatchObject({ modelId: 'org/name', host: `${HF}/`, revision: 'main', bytes: 5100 });
    expect(main?.files.map((f) => f.url)).toEqual([`${HF}/org/name/resolve/main/config.json`, `${HF}/org/name/resolve/main/onnx/model_q4.onnx`]);
    expect(groups[1]).toMatchObject({ modelId: 'org/name', revision: 'dev', bytes: 4000 });
  });

  it('a model id without an org', () => {
    const [g] = groupCachedFiles([{ url: `${HF}/gpt2/resolve/main/config.json`, bytes: 10 }]);
    expect(g).toMatchObject({ key: `${HF}/gpt2@main`, modelId: 'gpt2', host: `${HF}/`, revision: 'main' });
  });

  it('decodes an encoded revision (refs%2Fpr%2F1)', () => {
    const [g] = groupCachedFiles([{ url: `${HF}/org/name/resolve/refs%2Fpr%2F1/config.json`, bytes: 10 }]);
    expect(g).toMatchObject({ modelId: 'org/name', revision: 'refs/pr/1', key: `${HF}/org/name@refs/pr/1` });
  });

  it('mirror URLs keep the path prefix in the host', () => {
    const groups = groupCachedFiles([
      { url: 'http://127.0.0.1:9000/mirror/org/name/resolve/main/config.json', bytes: 1 },
      { url: 'http://127.0.0.1:9000/mirror/org/name/resolve/main/onnx/model.onnx', bytes: 2 },
      { url: 'http://127.0.0.1:9000/a/b/org/name/resolve/main/config.json', bytes: 1 },
    ]);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({
      key: 'http://127.0.0.1:9000/mirror/org/name@main',
      host: 'http://127.0.0.1:9000/mirror/',
      modelId: 'org/name',
      revision: 'main',
      bytes: 3,
    });
    expect(groups[1]).toMatchObject({ host: 'http://127.0.0.1:9000/a/b/', modelId: 'org/name', key: 'http://127.0.0.1:9000/a/b/org/name@main' });
  });

  it('the same model on the hub and on a mirror are separate groups', () => {
    const groups = groupCachedFiles([
      { url: `${HF}/org/name/resolve/main/config.json`, bytes: 1 },
      { url: 'https://mirror.example/org/name/resolve/main/config.json', bytes: 1 },
    ]);
    expect(groups).toHaveLength(2);
    expect(new Set(groups.map((g) => g.host))).toEqual(new Set([`${HF}/`, 'https://mirror.example/']));
  });

  it('non-hub URLs (the ORT wasm) are grouped by their folder', () => {
    const groups = groupCachedFiles([
      { url: 'http://localhost:5173/sub/ort/ort-wasm-simd-threaded.jsep.wasm', bytes: 20_000_000 },
      { url: 'http://localhost:5173/sub/ort/ort-wasm-simd-threaded.jsep.mjs', bytes: 100_000 },
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      key: 'http://localhost:5173/sub/ort',
      modelId: 'ort',
      host: 'http://localhost:5173/sub/',
      revision: '',
      bytes: 20_100_000,
    });
    expect(groups[0]?.files).toHaveLength(2);
  });

  it('a non-hub folder at the origin root', () => {
    const [g] = groupCachedFiles([{ url: 'https://cdn.example/ort/x.wasm', bytes: 5 }]);
    expect(g).toMatchObject({ key: 'https://cdn.example/ort', host: 'https://cdn.example/', modelId: 'ort', revision: '' });
  });

  it('sorts groups by size, largest first', () => {
    const groups = groupCachedFiles([
      { url: `${HF}/a/small/resolve/main/config.json`, bytes: 10 },
      { url: `${HF}/a/big/resolve/main/onnx/model.onnx`, bytes: 1000 },
      { url: 'http://localhost:5173/ort/ort.wasm', bytes: 500 },
      { url: `${HF}/a/small/resolve/main/tokenizer.json`, bytes: 5 },
    ]);
    expect(groups.map((g) => [g.modelId, g.bytes])).toEqual([
      ['a/big', 1000],
      ['ort', 500],
      ['a/small', 15],
    ]);
  });

  it('skips entries whose URL does not parse', () => {
    const groups = groupCachedFiles([
      { url: 'not a url', bytes: 99 },
      { url: '', bytes: 99 },
      { url: `${HF}/org/name/resolve/main/config.json`, bytes: 1 },
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.bytes).toBe(1);
  });

  it('does not share file arrays between groups or with the input', () => {
    const input = [
      { url: `${HF}/a/x/resolve/main/config.json`, bytes: 1 },
      { url: `${HF}/a/y/resolve/main/config.json`, bytes: 2 },
    ];
    const groups = groupCachedFiles(input);
    expect(groups[0]?.files).not.toBe(groups[1]?.files);
    expect(groups.flatMap((g) => g.files)).toHaveLength(2);
  });
});

describe('browser-only helpers in node', () => {
  it('the cache bucket is the one transformers.js uses', () => {
    expect(MODEL_CACHE).toBe('transformers-cache');
  });

  it('listCachedModels is empty where Cache Storage does not exist', async () => {
    expect(typeof (globalThis as { caches?: unknown }).caches).toBe('undefined');
    await expect(listCachedModels()).resolves.toEqual([]);
  });

  it('storageEstimate reports unknowns without navigator.storage', async () => {
    const nav = (globalThis as { navigator?: { storage?: unknown } }).navigator;
    expect(nav?.storage).toBeUndefined();
    await expect(storageEstimate()).resolves.toEqual({ usage: null, quota: null, persisted: null });
  });
});
