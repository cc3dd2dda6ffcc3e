/**
 * What the model store hands transformers.js for a model file: a Response whose `arrayBuffer()` is the
 * store's own read into one buffer of the file's size. transformers.js reads a file with
 * `arrayBuffer()` when it is given no progress callback (load.ts gives it none: the store reports the
 * progress), otherwise through the body stream, copying every chunk into a buffer of its own. So a
 * stored OPFS file goes into its buffer with one synchronous read (src/models/opfs.ts: 0.66–0.73 s
 * against 1.40–1.86 s streamed, 652 MB), and a download is read as before: chunk by chunk into a
 * buffer allocated once at its announced size, not by Chromium's own `Response.arrayBuffer()` (the
 * slowest read measured: 1.35–3.34 s for a Response over the same 652 MB of Cache Storage parts).
 * The body stays a working stream for anyone who reads it (the preflight reads config.json's text).
 */
export class FileResponse extends Response {
  constructor(
    body: ReadableStream<Uint8Array>,
    size: number | null,
    private readonly whole: () => Promise<ArrayBuffer>,
  ) {
    super(body, { status: 200, headers: size === null ? {} : { 'content-length': String(size) } });
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.whole();
  }
}

/** A stream that calls `next` only when read (none of it is read ahead: a FileResponse read whole never touches it). */
export function lazyStream(next: () => Promise<Uint8Array | null>, cancel?: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        const c = await next();
        if (c) ctl.enqueue(c);
        else ctl.close();
      },
      cancel,
    },
    { highWaterMark: 0 },
  );
}

/** The stream `open` gives, opened when first read (never, for a FileResponse read whole). */
export function streamWhenRead(open: () => Promise<ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return lazyStream(
    async () => {
      reader ??= (await open()).getReader();
      const r = await reader.read();
      return r.done ? null : r.value;
    },
    () => void reader?.cancel().catch(() => undefined),
  );
}

/** Stored Cache Storage parts as one stream, opened when first read. */
export function blobStream(blobs: Blob[]): ReadableStream<Uint8Array> {
  return streamWhenRead(async () => new Blob(blobs).stream());
}

/** Reads `stream` whole: into one buffer of `size` bytes where the size is known (growing it if more come), else gathered and joined. */
export async function readWhole(stream: ReadableStream<Uint8Array>, size: number | null): Promise<ArrayBuffer> {
  const reader = stream.getReader();
  const buf = new Uint8Array(size ?? 0);
  let filled = 0;
  const extra: Uint8Array[] = [];
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    const v = r.value;
    if (!extra.length && filled + v.byteLength <= buf.length) {
      buf.set(v, filled);
      filled += v.byteLength;
    } else extra.push(v.slice());
  }
  if (!extra.length && filled === buf.length) return buf.buffer;
  const out = new Uint8Array(filled + extra.reduce((s, e) => s + e.byteLength, 0));
  out.set(buf.subarray(0, filled));
  let o = filled;
  for (const e of extra) {
    out.set(e, o);
    o += e.byteLength;
  }
  return out.buffer;
}
