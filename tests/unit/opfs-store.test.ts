// @vitest-environment node
/**
 * The pure parts of the store's OPFS layout (src/models/opfs.ts, src/models/cache.ts): the record's
 * `opfs` field, the check of a stored file against its record, the file's name, and the read of a
 * download into one buffer (engines/local/worker/file-response.ts). The browser side (OPFS files
 * written, read back, damaged, deleted) is tests/e2e/storage.test.ts and model-sources.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FileResponse, readWhole } from '../../src/engines/local/worker/file-response';
import { checkStoredFile, parseMeta, type FileMeta } from '../../src/models/cache';
import { opfsName } from '../../src/models/opfs';

const NAME = 'a'.repeat(64);
const meta = (m: Partial<FileMeta>): FileMeta => ({ v: 1, size: 100, parts: [60, 40], etag: null, complete: true, opfs: NAME, ...m });

function stream(chunks: number[][]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({ pull: (c) => (i < chunks.length ? c.enqueue(Uint8Array.from(chunks[i++]!)) : c.close()) });
}

describe('the record of an OPFS-stored file', () => {
  it('keeps a SHA-256 name and refuses anything else there', () => {
    expect(parseMeta(JSON.stringify(meta({})))?.opfs).toBe(NAME);
    expect(parseMeta(JSON.stringify({ ...meta({}), opfs: undefined }))).not.toHaveProperty('opfs');
    expect(parseMeta(JSON.stringify(meta({ opfs: '../x' })))).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), opfs: 7 }))).toBeNull();
  });

  it('trusts the file only as far as the record counts', () => {
    expect(checkStoredFile(meta({}), 100, 100)).toEqual({ ok: true });
    expect(checkStoredFile(meta({}), null, 100)).toEqual({ ok: false, why: 'its file is missing' });
    expect(checkStoredFile(meta({}), 99, null)).toEqual({ ok: false, why: 'its file holds 99 bytes, 100 recorded' });
    // Complete: exactly its size. Partial: at least what the record counts (a part written before its record is fine).
    expect(checkStoredFile(meta({}), 101, null)).toEqual({ ok: false, why: 'its file holds 101 bytes, 100 recorded' });
    expect(checkStoredFile(meta({ parts: [60], complete: false }), 75, null)).toEqual({ ok: true });
    expect(checkStoredFile(meta({ parts: [60], complete: false }), 59, null)).toEqual({ ok: false, why: 'its file holds 59 bytes, 60 recorded' });
    expect(checkStoredFile(meta({}), 100, 120)).toEqual({ ok: false, why: 'the host now announces 120 bytes, the cached copy has 100' });
    expect(checkStoredFile(meta({ parts: [60, 30] }), 100, null)).toEqual({ ok: false, why: '90 of 100 bytes stored' });
  });

  it('names a file by its URL: 64 hex digits, one name per URL', async () => {
    const a = await opfsName('https://huggingface.co/org/m/resolve/main/onnx/model.onnx');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await opfsName('https://huggingface.co/org/m/resolve/main/onnx/model.onnx')).toBe(a);
    expect(await opfsName('https://huggingface.co/org/m/resolve/main/onnx/model_q4.onnx')).not.toBe(a);
  });
});

describe('a download read whole', () => {
  it('fills one buffer of the announced size', async () => {
    expect([...new Uint8Array(await readWhole(stream([[1, 2], [3], [4, 5]]), 5))]).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps every byte when more come than announced, or the size is unknown', async () => {
    expect([...new Uint8Array(await readWhole(stream([[1, 2], [3, 4, 5], [6]]), 4))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...new Uint8Array(await readWhole(stream([[1], [2, 3]]), null))]).toEqual([1, 2, 3]);
    expect([...new Uint8Array(await readWhole(stream([[1, 2]]), 5))]).toEqual([1, 2]);
  });

  it('a FileResponse reads whole through its own read, and its body still streams', async () => {
    let reads = 0;
    const r = new FileResponse(stream([[7, 8]]), 2, async () => {
      reads++;
      return Uint8Array.from([9]).buffer;
    });
    expect(r.headers.get('content-length')).toBe('2');
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([9]);
    expect(reads).toBe(1);
    expect(await r.text()).toBe('\x07\x08');
  });
});
