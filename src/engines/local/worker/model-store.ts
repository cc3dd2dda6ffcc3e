// About 465 lines: one class, the download (verify, resume, store in parts in either place, report progress) and the cache read it must agree with.
/**
 * How the worker downloads and caches model files, embedded, hub and mirror alike (transformers.js's `env.fetch`
 * and `env.customCache` point here). transformers.js alone would read each file whole, then `put`
 * it into Cache Storage as one entry and wait for that (a 300 MB entry fails in off-the-record
 * profiles, and the wait counted as download time), with no check of the bytes' count and no way
 * to continue a cut download. Here:
 *  - every byte is counted against the host's Content-Length and the preflight's size: a short,
 *    long or cut file is an error naming the file, never a model;
 *  - files are stored while they stream, in parts of PART_BYTES (src/models/resume.ts) plus a record (src/models/cache.ts),
 *    the parts one after another in an OPFS file where this worker can write one synchronously
 *    (src/models/opfs.ts: read back twice as fast), else as Cache Storage entries; a file counts as
 *    cached only once its record says complete and the stored bytes add up to its size;
 *  - a stored file is read back into one buffer of its size, and a download chunk by chunk into one
 *    (file-response.ts), and this store reports each file's progress and end (transformers.js is
 *    given no progress callback: with one it would read every file through a stream and a copy);
 *  - a cut download keeps its stored parts; the next Load asks the host for the rest with a
 *    Range request (If-Range: ETag) and says whether it resumed or had to restart;
 *  - storing never breaks loading: a refused put (quota, off-the-record limit, any error) stops
 *    storing this model, removes what this load stored of it, and the reason goes to the Load status;
 *    so does a model deleted (Cache tab, another tab) while its download is being stored, which
 *    storing on would have turned into a record of parts that are gone (zeros, in an OPFS file).
 */
import { errorText } from '../../../lib/errors';
import {
  checkStored, checkStoredFile, deleteCachedFiles, metaKey, MODEL_CACHE, notStoredReason, parseMeta, partKey, quotaShortfall,
  storageEstimate, STORE_CHANGED, storedBytes, type FileMeta,
} from '../../../models/cache';
import { PART_BYTES, resumeDecision } from '../../../models/resume';
import { opfsDir, opfsName } from '../../../models/opfs';
import { fmtBytes } from '../../../metrics/format';
import type { CacheReport, PlannedFile } from '../protocol';
import { blobStream, FileResponse, lazyStream, readWhole, streamWhenRead } from './file-response';
import { fileSize, readInto, syncAccessAvailable, writeAt } from './opfs-file';

/** transformers.js asks for embedded files by root-relative path: keys and URLs are absolute here. */
function absolute(u: string | URL): string {
  return new URL(String(u), self.location.href).href;
}

/** A download that went wrong: the message names the file; the runtime reports it instead of transformers.js's own error. */
export class DownloadError extends Error {}

function storeChanged(message: string): Error {
  return Object.assign(new Error(message), { name: STORE_CHANGED });
}

/** A stored file's bytes: Cache Storage parts (as Blobs), or null: the record's OPFS file. */
interface Stored {
  meta: FileMeta;
  blobs: Blob[] | null;
}

/** Where the Load's per-file progress goes (load.ts posts it to the page). */
export interface StoreProgress {
  progress(file: string, loaded: number, total: number): void;
  done(file: string): void;
}

/** Chunks of a stored prefix are read this large when a resumed download streams it again. */
const PREFIX_CHUNK = 4 << 20;

export class ModelStore {
  private cache: Cache | null = null;
  /** The OPFS folder new downloads go to (null: Cache Storage parts). */
  private dir: FileSystemDirectoryHandle | null = null;
  /** Why this load stores nothing (more), once known. */
  private refused: string | null = null;
  private readonly files = new Map<string, PlannedFile>();
  private readonly partials = new Map<string, Stored>();
  /** Files this load wrote parts of (removed again when storing is refused). */
  private readonly written = new Set<string>();
  private readonly pending: Promise<unknown>[] = [];
  private readonly downloaded = new Set<string>();
  /** A download's writes so far, by URL (the last one stores its last part and the complete record). */
  private readonly writes = new Map<string, Promise<void>>();
  /**
   * Complete stored copies this load has verified, by URL: transformers.js looks a model file up
   * twice before it reads it (its existence check, then its load), and each lookup assembled the
   * file's parts again. Measured (2026-12-01, 135M q8 warm load, 16 parts): 158 ms, then 49 ms, both
   * before the first byte was read. The parts stay looked up one after another: all at once (52
   * for the 0.5B shape) made its read 0.08–0.15 s slower and the kernel primer beside it twice as
   * slow (docs/performance.md).
   */
  private readonly verified = new Map<string, Stored>();
  private readonly notes: string[] = [];
  private totalBytes: number | null = null;
  /** Bytes of the planned files already in the store when the load began (init); 0 with the store off. */
  storedBytes = 0;
  private fromCache = 0;
  private fromNetwork = 0;
  /** The first download failure of this load (the load's error). */
  failure: DownloadError | null = null;

  /** `store`: keep downloads in Cache Storage (the app); false: verify only (the benchmark's bare worker). */
  constructor(
    private readonly modelId: string,
    private readonly store: boolean,
    private readonly sink: StoreProgress | null = null,
  ) {}

  /** Opens the cache (before the preflight, which may need it when the host cannot be reached). */
  async open(): Promise<void> {
    if (!this.store) return;
    if (typeof caches === 'undefined') {
      this.refused = 'Not cached: this browser gives this page no Cache Storage.';
      return;
    }
    try {
      this.cache = await caches.open(MODEL_CACHE);
    } catch (e) {
      this.refused = `Not cached: the browser refused to open Cache Storage (${errorText(e)}).`;
      return;
    }
    if (syncAccessAvailable()) this.dir = await opfsDir(true);
  }

  /**
   * The preflight's fallback when the host cannot be reached: a complete, verified cached copy of
   * `url` (so a cached model loads offline), or null.
   */
  offline = async (url: string): Promise<Response | null> => {
    if (!this.cache) return null;
    const res = await this.match(url, false);
    if (res && !this.notes.some((n) => n.startsWith('Offline'))) this.notes.push('Offline: the host could not be reached, so the cached copy was used without checking the host for a newer one.');
    return res ?? null;
  };

  /** Records the plan and checks the quota for what it still needs. */
  async init(plan: PlannedFile[], totalBytes: number | null): Promise<void> {
    for (const f of plan) this.files.set(f.url, f);
    this.totalBytes = totalBytes;
    if (!this.cache || totalBytes === null) return;
    let have = 0;
    for (const f of plan) {
      const m = await this.readMeta(f.url);
      if (m) have += storedBytes(m);
    }
    this.storedBytes = have;
    const short = quotaShortfall(this.modelId, totalBytes - have, await storageEstimate().catch(() => null));
    if (short) {
      this.refused = short;
      // Nothing half-stored stays behind for a model that cannot fit: earlier parts of it go too.
      await deleteCachedFiles(plan.map((f) => f.url)).catch(() => undefined);
    }
  }

  private async readMeta(url: string): Promise<FileMeta | null> {
    const res = await this.cache?.match(metaKey(url));
    return res ? parseMeta(await res.text()) : null;
  }

  private fileName(url: string): string {
    return this.files.get(url)?.file ?? new URL(url).pathname.split('/').slice(-2).join('/');
  }

  private async drop(url: string): Promise<void> {
    this.partials.delete(url);
    this.verified.delete(url);
    await deleteCachedFiles([url]).catch(() => undefined);
  }

  /** transformers.js's cache lookup: a complete, verified copy, else undefined (it then fetches). */
  async match(key: string, count = true): Promise<Response | undefined> {
    const url = absolute(key);
    // transformers.js looks again before its put: a file this load downloaded is not a cache read.
    if (this.downloaded.has(url)) return this.beingStored(url);
    return this.lookup(url, count);
  }

  private async lookup(url: string, count: boolean): Promise<Response | undefined> {
    if (!this.cache) return undefined;
    const known = this.verified.get(url);
    if (known) {
      if (count) this.fromCache++;
      return this.storedResponse(url, known);
    }
    let meta: FileMeta | null;
    try {
      const res = await this.cache.match(metaKey(url));
      if (!res) return undefined;
      meta = parseMeta(await res.text());
      const planned = this.files.get(url);
      let blobs: Blob[] | null = null;
      let check: { ok: true } | { ok: false; why: string };
      if (!meta) check = { ok: false, why: 'its record is unreadable' };
      else if (meta.opfs) check = checkStoredFile(meta, this.dir ? await fileSize(this.dir, meta.opfs) : null, planned?.bytes ?? null);
      else {
        const found: (Blob | null)[] = [];
        for (const i of meta.parts.keys()) {
          const part = await this.cache.match(partKey(url, i));
          found.push(part ? await part.blob() : null);
        }
        blobs = found.filter((b): b is Blob => b !== null);
        check = checkStored(meta, found.map((b) => (b ? b.size : null)), planned?.bytes ?? null);
      }
      if (check.ok && meta?.etag && planned?.etag && meta.etag !== planned.etag) check = { ok: false, why: 'the file changed on the host (another ETag)' };
      if (!meta || !check.ok) {
        this.notes.push(`The cached copy of ${this.fileName(url)} could not be used (${check.ok ? 'unreadable' : check.why}): removed and downloaded again.`);
        await this.drop(url);
        return undefined;
      }
      if (!meta.complete) {
        this.partials.set(url, { meta, blobs });
        return undefined;
      }
      this.verified.set(url, { meta, blobs });
      if (count) this.fromCache++;
      return this.storedResponse(url, { meta, blobs });
    } catch (e) {
      this.notes.push(`Reading ${this.fileName(url)} from the cache failed (${errorText(e)}): downloaded again.`);
      await this.drop(url);
      return undefined;
    }
  }

  /**
   * A file this load downloaded, as the store holds it once its writes are done (read back from there
   * if anyone reads it), or undefined where it is not being stored. transformers.js looks a downloaded
   * file up once more before its put, and finding nothing it copies the whole file into a new Response
   * for that put (a no-op here: the store wrote it while it streamed). Measured reason (2026-12-03, 0.5B
   * q4, 862 MB, a first visit in headless Chromium on this VM): that copy held the model worker for
   * 4.5 s between the last byte and ONNX Runtime's create, with 862 MB more memory touched for nothing.
   */
  private beingStored(url: string): Response | undefined {
    const writes = this.writes.get(url);
    if (!writes || this.refused !== null) return undefined;
    const file = this.fileName(url);
    const stored = async (): Promise<Response> => {
      await writes;
      const res = this.refused === null ? await this.lookup(url, false) : undefined;
      if (!res) throw new Error(`${file}: its download was not stored${this.refused === null ? '' : ` (${this.refused})`}.`);
      return res;
    };
    const body = streamWhenRead(async () => (await stored()).body ?? new ReadableStream<Uint8Array>());
    return new FileResponse(body, this.files.get(url)?.bytes ?? null, async () => (await stored()).arrayBuffer());
  }

  /** A verified stored copy as a response: read whole into one buffer (the load), or streamed (anyone else). */
  private storedResponse(url: string, { meta, blobs }: Stored): Response {
    const file = this.fileName(url);
    const dir = this.dir;
    const name = meta.opfs;
    const whole = async (): Promise<ArrayBuffer> => {
      this.sink?.progress(file, 0, meta.size);
      let buf: ArrayBuffer;
      if (blobs) {
        buf = await new Blob(blobs).arrayBuffer();
        this.sink?.progress(file, meta.size, meta.size);
      } else {
        if (!dir || !name) throw new Error(`${file}: its stored file cannot be opened`);
        const into = new Uint8Array(meta.size);
        // The last slice reports the whole size.
        await readInto(dir, name, into, 0, undefined, (n) => this.sink?.progress(file, n, meta.size));
        buf = into.buffer;
      }
      this.sink?.done(file);
      return buf;
    };
    const body = blobs ? blobStream(blobs) : this.opfsChunks(name ?? '', meta.size);
    return new FileResponse(body, meta.size, whole);
  }

  /** The first `to` bytes of an OPFS file, as a stream read PREFIX_CHUNK at a time. */
  private opfsChunks(name: string, to: number): ReadableStream<Uint8Array> {
    let at = 0;
    return lazyStream(async () => {
      if (at >= to || !this.dir) return null;
      const c = new Uint8Array(Math.min(PREFIX_CHUNK, to - at));
      await readInto(this.dir, name, c, at);
      at += c.length;
      return c;
    });
  }

  /**
   * transformers.js's store call after reading a file: the file was stored while it streamed, so
   * nothing is left to do (waiting here would count the last part's write as download time;
   * report() waits for the writes).
   */
  async put(): Promise<void> {}

  /** transformers.js's fetch: model-file GETs are verified, stored and resumed here; anything else passes through. */
  fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = absolute(input);
    // transformers.js probes files with `Range: bytes=0-0` GETs: those pass through untouched.
    if ((init?.method ?? 'GET') !== 'GET' || !this.files.has(url) || new Headers(init?.headers).has('range')) return fetch(input, init);
    const file = this.fileName(url);
    const partial = this.partials.get(url) ?? null;
    const headers = new Headers(init?.headers);
    if (partial) {
      headers.set('Range', `bytes=${storedBytes(partial.meta)}-`);
      if (partial.meta.etag) headers.set('If-Range', partial.meta.etag);
    }
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers });
    } catch (e) {
      throw this.failed(`Could not download ${file}: the host did not answer (${errorText(e)}). Load again to retry.`);
    }
    if (res.status === 404) return res; // transformers.js knows which files are optional
    if (!res.ok) {
      throw this.failed(`The host answered HTTP ${res.status} for ${file}. Nothing of it was kept; Load again to retry.`);
    }
    const announced = this.files.get(url)?.bytes ?? null;
    let start = 0;
    let meta: FileMeta;
    let prefix: ReadableStream<Uint8Array> | null = null;
    const etag = res.headers.get('etag');
    if (partial) {
      const d = resumeDecision(partial.meta, { status: res.status, contentRange: res.headers.get('content-range'), etag });
      if (d.resume) {
        start = storedBytes(partial.meta);
        meta = partial.meta;
        prefix = partial.blobs ? blobStream(partial.blobs) : this.opfsChunks(meta.opfs ?? '', start);
        this.notes.push(`Resumed ${file} at ${fmtBytes(start)} of ${fmtBytes(meta.size)} with an HTTP Range request.`);
      } else {
        this.notes.push(`Restarted ${file} from the beginning: ${d.why}.`);
        await this.drop(url);
        if (res.status === 206) {
          res.body?.cancel().catch(() => undefined);
          res = await fetch(url, init);
          if (!res.ok) throw this.failed(`The host answered HTTP ${res.status} for ${file}. Load again to retry.`);
        }
        meta = await this.newMeta(url, res, announced);
      }
    } else {
      meta = await this.newMeta(url, res, announced);
    }
    const expected = meta.size >= 0 ? meta.size : null;
    if (announced !== null && expected !== null && announced !== expected) {
      res.body?.cancel().catch(() => undefined);
      await this.drop(url);
      throw this.failed(`${file}: the host announced ${announced} bytes, then sent a Content-Length of ${expected}. Nothing of it was kept; Load again.`);
    }
    this.fromNetwork++;
    this.downloaded.add(url);
    this.partials.delete(url);
    const body = this.verifiedStream(url, file, res, meta, prefix, start, expected);
    return new FileResponse(body, expected, () => readWhole(body, expected));
  };

  /** A new download's record: its bytes go to an OPFS file where this worker can write one. */
  private async newMeta(url: string, res: Response, announced: number | null): Promise<FileMeta> {
    const n = Number(res.headers.get('content-length') ?? NaN);
    const size = Number.isSafeInteger(n) && n >= 0 ? n : (announced ?? -1);
    const meta: FileMeta = { v: 1, size, parts: [], etag: res.headers.get('etag'), complete: false };
    if (this.dir) meta.opfs = await opfsName(url);
    return meta;
  }

  private failed(message: string): DownloadError {
    const e = new DownloadError(message);
    this.failure ??= e;
    return e;
  }

  /** Stored prefix, then the network's bytes; counted, stored in parts, and checked against the expected size at the end. */
  private verifiedStream(url: string, file: string, res: Response, meta: FileMeta, prefix: ReadableStream<Uint8Array> | null, start: number, expected: number | null): ReadableStream<Uint8Array> {
    const reader = res.body?.getReader();
    let received = start;
    let chunks: Uint8Array[] = [];
    let chunkBytes = 0;
    let chain: Promise<void> = Promise.resolve();
    const storing = () => this.cache !== null && this.refused === null && expected !== null;
    const flush = (last: boolean) => {
      if (!storing() || (chunkBytes === 0 && !last)) return;
      const part = chunks;
      const size = chunkBytes;
      chunks = [];
      chunkBytes = 0;
      chain = chain.then(() => this.storePart(url, file, meta, part, size, last));
      this.pending.push(chain);
      this.writes.set(url, chain);
    };
    let prefixReader = prefix?.getReader() ?? null;
    return new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        if (prefixReader) {
          const r = await prefixReader.read();
          if (!r.done) return ctl.enqueue(r.value);
          prefixReader = null;
        }
        if (!reader) return ctl.error(this.failed(`${file}: the host sent no body.`));
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          flush(false);
          // The kept part is stored before the load reports the error (a Load right after finds it).
          await chain;
          const kept = storing() ? ' What came so far is kept: Load again to continue.' : ' Load again to retry.';
          return ctl.error(this.failed(`The download of ${file} was cut after ${fmtBytes(received)}${expected === null ? '' : ` of ${fmtBytes(expected)}`} (${errorText(e)}).${kept}`));
        }
        if (r.done) {
          if (expected !== null && received !== expected) {
            chunks = [];
            await chain;
            await this.drop(url);
            return ctl.error(this.failed(`${file} is ${received < expected ? 'shorter' : 'longer'} than announced: ${received} bytes received, ${expected} expected. Nothing of it was kept; Load again.`));
          }
          flush(true);
          this.sink?.done(file);
          return ctl.close();
        }
        received += r.value.byteLength;
        if (expected !== null && received > expected) {
          reader.cancel().catch(() => undefined);
          chunks = [];
          await chain;
          await this.drop(url);
          return ctl.error(this.failed(`${file} is longer than announced: more than ${expected} bytes received. Nothing of it was kept; Load again.`));
        }
        if (storing()) {
          chunks.push(r.value);
          chunkBytes += r.value.byteLength;
          if (chunkBytes >= PART_BYTES) flush(false);
        }
        // load.ts posts at most ~20 of these a second per file.
        this.sink?.progress(file, received, expected ?? received);
        ctl.enqueue(r.value);
      },
      cancel: (why) => reader?.cancel(why),
    });
  }

  /** Writes one part (after the record's parts in its OPFS file, or as a Cache Storage entry) and then the record that counts it (complete with the last part). */
  private async storePart(url: string, file: string, meta: FileMeta, chunks: Uint8Array[], size: number, last: boolean): Promise<void> {
    const cache = this.cache;
    if (!cache || this.refused !== null) return;
    try {
      // A part after the first continues what the record counts: if the record went meanwhile (the model
      // was deleted in the Cache tab or another tab), storing on would leave a record of parts that are gone.
      if (meta.parts.length > 0 && !(await cache.match(metaKey(url)))) throw storeChanged('its record is gone');
      if (meta.opfs) {
        if (!this.dir) throw new Error('the OPFS folder is gone');
        await writeAt(this.dir, meta.opfs, chunks, storedBytes(meta));
        if (size > 0) meta.parts.push(size);
      } else if (size > 0 || meta.parts.length === 0) {
        await cache.put(partKey(url, meta.parts.length), new Response(new Blob(chunks as BlobPart[]), { headers: { 'content-length': String(size) } }));
        meta.parts.push(size);
      }
      meta.complete = last;
      this.written.add(url);
      await cache.put(metaKey(url), new Response(JSON.stringify(meta), { headers: { 'content-type': 'application/json' } }));
    } catch (e) {
      let err = e instanceof DOMException || e instanceof Error ? e : new Error(String(e));
      // The OPFS folder or file removed under this write: the same deletion, seen from the file's side.
      if (err.name === 'NotFoundError' && meta.parts.length > 0) err = storeChanged(`its stored file is gone (${err.message})`);
      this.refused = notStoredReason(file, meta.size, err, await storageEstimate().catch(() => null), { id: this.modelId, bytes: this.totalBytes });
      // Not half-cached: whatever this load stored of the model goes.
      await deleteCachedFiles([...this.files.keys()]).catch(() => undefined);
      return;
    }
    // Another file's put was refused while this one's were under way: that clean-up may have listed
    // the cache before these landed (a fresh CI machine kept a record of generation_config.json so).
    if (this.refused !== null) await deleteCachedFiles([url]).catch(() => undefined);
  }

  /** Waits for the stores still running and says what this load did with the cache. */
  async report(): Promise<CacheReport> {
    await Promise.allSettled(this.pending);
    const source = this.fromNetwork === 0 ? 'cache' : this.fromCache === 0 && !this.notes.some((n) => n.startsWith('Resumed')) ? 'network' : 'mixed';
    return { source, stored: this.store ? this.refused === null : null, reason: this.store ? this.refused : null, notes: this.notes };
  }
}
