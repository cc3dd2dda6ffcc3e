/** The model store's pure rules (src/models/cache.ts, src/models/resume.ts): cache keys, the completeness rule, the resume decision, the reasons. */
import { describe, expect, it } from 'vitest';
import {
  checkStored, metaKey, notStoredReason, parseMeta, parseStoreKey, partKey, quotaShortfall, STORE_CHANGED, storedBytes, type FileMeta,
} from '../../src/models/cache';
import { parseContentRange, resumeDecision } from '../../src/models/resume';
import { parseRange } from '../e2e/model-host';

const URL1 = 'http://127.0.0.1:9000/org/m/resolve/main/onnx/model.onnx';
const meta = (m: Partial<FileMeta>): FileMeta => ({ v: 1, size: 100, parts: [60, 40], etag: '"e1"', complete: true, ...m });

describe('store keys', () => {
  it('part and record keys parse back to the file URL', () => {
    expect(parseStoreKey(partKey(URL1, 3))).toEqual({ url: URL1, kind: 'part', part: 3 });
    expect(parseStoreKey(metaKey(URL1))).toEqual({ url: URL1, kind: 'meta', part: 0 });
    expect(parseStoreKey(URL1)).toEqual({ url: URL1, kind: 'legacy', part: 0 });
  });
  it('a URL with its own query gets "&"', () => {
    const u = `${URL1}?download=true`;
    expect(partKey(u, 0)).toBe(`${u}&slm-part=0`);
    expect(parseStoreKey(metaKey(u))).toEqual({ url: u, kind: 'meta', part: 0 });
  });
  it('look-alikes in the middle of a URL are not keys', () => {
    expect(parseStoreKey(`${URL1}?slm-part=1x`).kind).toBe('legacy');
    expect(parseStoreKey('http://h/slm-meta/config.json').kind).toBe('legacy');
  });
});

describe('parseMeta', () => {
  it('reads a record and refuses malformed ones', () => {
    expect(parseMeta(JSON.stringify(meta({})))).toEqual(meta({}));
    expect(parseMeta('{')).toBeNull();
    expect(parseMeta('null')).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), v: 2 }))).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), size: -1 }))).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), parts: [1.5] }))).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), etag: 5 }))).toBeNull();
    expect(parseMeta(JSON.stringify({ ...meta({}), complete: 'yes' }))).toBeNull();
  });
});

describe('checkStored (the completeness rule)', () => {
  it('complete: every part present at its recorded size, adding up to the size', () => {
    expect(checkStored(meta({}), [60, 40], null)).toEqual({ ok: true });
    expect(checkStored(meta({}), [60, 40], 100)).toEqual({ ok: true });
    expect(storedBytes(meta({}))).toBe(100);
  });
  it('a truncated, missing or extra part is refused', () => {
    expect(checkStored(meta({}), [60, 39], null)).toEqual({ ok: false, why: 'part 2 holds 39 bytes, 40 recorded' });
    expect(checkStored(meta({}), [60, null], null)).toEqual({ ok: false, why: 'part 2 is missing' });
    expect(checkStored(meta({}), [60], null)).toEqual({ ok: false, why: '1 of 2 parts present' });
  });
  it('a record whose parts do not add up to its size is refused', () => {
    expect(checkStored(meta({ parts: [60, 30] }), [60, 30], null)).toEqual({ ok: false, why: '90 of 100 bytes stored' });
    expect(checkStored(meta({ complete: false, parts: [60, 40] }), [60, 40], null)).toEqual({ ok: false, why: '100 of 100 bytes stored' });
  });
  it('partial: fewer bytes than the size are fine (resumable)', () => {
    expect(checkStored(meta({ complete: false, parts: [60] }), [60], null)).toEqual({ ok: true });
  });
  it('the host announcing another size makes the copy stale', () => {
    expect(checkStored(meta({}), [60, 40], 101)).toEqual({ ok: false, why: 'the host now announces 101 bytes, the cached copy has 100' });
  });
});

describe('resume', () => {
  const partial = meta({ complete: false, parts: [60] });
  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 60-99/100')).toEqual({ start: 60, end: 99, total: 100 });
    expect(parseContentRange('bytes 60-99/*')).toEqual({ start: 60, end: 99, total: null });
    expect(parseContentRange('bytes 60-59/100')).toBeNull();
    expect(parseContentRange('bytes 60-100/100')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
  it('continues only on 206 with exactly the rest of the same file', () => {
    expect(resumeDecision(partial, { status: 206, contentRange: 'bytes 60-99/100', etag: '"e1"' })).toEqual({ resume: true });
    expect(resumeDecision(partial, { status: 206, contentRange: 'bytes 60-99/100', etag: null })).toEqual({ resume: true });
  });
  it('restarts, saying why, otherwise', () => {
    const why = (r: Parameters<typeof resumeDecision>[1]) => {
      const d = resumeDecision(partial, r);
      return d.resume ? 'resume' : d.why;
    };
    expect(why({ status: 200, contentRange: null, etag: '"e1"' })).toMatch(/sent the whole file/);
    expect(why({ status: 206, contentRange: null, etag: null })).toMatch(/without a valid Content-Range/);
    expect(why({ status: 206, contentRange: 'bytes 0-99/100', etag: null })).toBe('the host sent bytes from 0, 60 were stored');
    expect(why({ status: 206, contentRange: 'bytes 60-119/120', etag: null })).toMatch(/now 120 bytes/);
    expect(why({ status: 206, contentRange: 'bytes 60-99/100', etag: '"e2"' })).toMatch(/another ETag/);
    expect(why({ status: 416, contentRange: null, etag: null })).toMatch(/HTTP 416/);
  });
  it('the test host reads Range headers as a hub CDN does', () => {
    expect(parseRange('bytes=60-', 100)).toEqual({ start: 60, end: 99 });
    expect(parseRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 });
    expect(parseRange('bytes=10-500', 100)).toEqual({ start: 10, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBeNull();
    expect(parseRange(undefined, 100)).toBeNull();
  });
});

describe('why a model is not cached', () => {
  const MiB = 2 ** 20;
  const est = { usage: 50 * MiB, quota: 100 * MiB, persisted: false };
  it('quota: refused before the download, with the sizes', () => {
    expect(quotaShortfall('org/m', 40 * MiB, est)).toBeNull();
    expect(quotaShortfall('org/m', 60 * MiB, est)).toBe(
      'Not cached: org/m needs 60.0 MB but this site may store only 50.0 MB more (quota 100 MB, 50.0 MB used). It loads from the network each time; free space in the Cache tab to keep it.',
    );
    expect(quotaShortfall('org/m', 60 * MiB, { usage: null, quota: null, persisted: null })).toBeNull();
  });
  it('a refused put: quota, or the browser\'s own error with the off-the-record hint for big files', () => {
    expect(notStoredReason('onnx/model.onnx', 60 * MiB, { name: 'QuotaExceededError', message: 'x' }, est)).toBe(
      "Not cached: onnx/model.onnx (60.0 MB) does not fit this site's storage quota: the browser refused to store it (the browser reports 50.0 MB used of 100 MB). Nothing of the model was kept; free space in the Cache tab.",
    );
    const otr = notStoredReason('onnx/model.onnx', 334e6, { name: 'UnknownError', message: 'Unexpected internal error' }, null);
    expect(otr).toMatch(/UnknownError: Unexpected internal error\. Off-the-record windows/);
    expect(notStoredReason('config.json', 900, { name: 'UnknownError', message: 'boom' }, null)).not.toMatch(/Off-the-record/);
  });
  it('a model deleted while its download was stored: says so, names the model, and is not called a refusal', () => {
    const why = notStoredReason('onnx/model.onnx', 60 * MiB, { name: STORE_CHANGED, message: 'its record is gone' }, est, { id: 'org/m', bytes: 70 * MiB });
    expect(why).toBe(
      "Not cached: org/m was deleted from this browser's cache while this load was storing it (onnx/model.onnx: its record is gone). The model is loaded; nothing of it was kept. Load it again to cache it.",
    );
    expect(notStoredReason('onnx/model.onnx', null, { name: STORE_CHANGED, message: 'x' }, null)).toMatch(/^Not cached: onnx\/model\.onnx was deleted /);
  });
});

describe('embedded models in the Cache tab', () => {
  it('files under {app}/models/{name}/ are one model, onnx/ included', async () => {
    const { groupCachedFiles } = await import('../../src/models/cache');
    const groups = groupCachedFiles([
      { url: 'http://localhost:4173/sub/models/slm-pocket/config.json', bytes: 1 },
      { url: 'http://localhost:4173/sub/models/slm-pocket/onnx/model.onnx', bytes: 10 },
    ]);
    expect(groups).toEqual([
      expect.objectContaining({ modelId: 'slm-pocket', host: 'http://localhost:4173/sub/models/', bytes: 11 }),
    ]);
  });
});
