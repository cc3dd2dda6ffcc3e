/**
 * A local static model host laid out like the Hugging Face hub: `/{org}/{name}/resolve/{revision}/{file}`.
 * It serves a copy of an embedded model under `test-org/pocket-mirror` and broken variants:
 *   - `test-org/pocket-corrupt`: onnx/model.onnx replaced by garbage bytes of the same size;
 *   - `test-org/pocket-notokenizer`: no tokenizer.json / tokenizer_config.json;
 *   - `test-org/pocket-badtokenizer`: a tokenizer.json that is not JSON (a cut-off or HTML answer).
 * Anything else is a real 404. GET and HEAD, with Content-Length, ETag, byte ranges (`Range`,
 * `If-Range`: 206 with Content-Range, as the hub's CDN answers), CORS and CORP headers so a
 * cross-origin-isolated page may read it. Every request is logged; `GET /__log` returns the log.
 * `fault(path, kind)` breaks the next GET of a file ending in `path` (storage tests): 'cut' sends
 * half the bytes and drops the connection, 'short' sends all but 4 KiB of the announced length and
 * closes, 'long' announces and sends 4 KiB more than the file (HEAD still gives the true size),
 * '500' answers a server error.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Transform } from 'node:stream';

export const MIRROR_ORG = 'test-org';
export const MIRROR_MODELS = {
  good: `${MIRROR_ORG}/pocket-mirror`,
  corrupt: `${MIRROR_ORG}/pocket-corrupt`,
  noTokenizer: `${MIRROR_ORG}/pocket-notokenizer`,
  badTokenizer: `${MIRROR_ORG}/pocket-badtokenizer`,
} as const;

export interface HostRequest {
  method: string;
  path: string;
  status: number;
  /** The request's Range header, when it had one. */
  range?: string;
}

/** `slow`: the whole file, after a pause of SLOW_MS before its headers (a slow network's first byte). */
export type HostFault = 'cut' | 'short' | 'long' | '500' | 'slow' | 'pause';
export const SLOW_MS = 2000;
/** 'pause': half of the file, then nothing for this long, then the rest (a download a test can act in the middle of). */
export const PAUSE_MS = 5000;

/** The host's request log (from a test process). */
export async function hostLog(hostUrl: string): Promise<HostRequest[]> {
  const r = await fetch(new URL('__log', hostUrl));
  return (await r.json()) as HostRequest[];
}

export interface ModelHost {
  url: string;
  requests: HostRequest[];
  /** Breaks the next `times` GETs of the file whose path ends with `pathEnd`. */
  fault(pathEnd: string, kind: HostFault, times?: number): void;
  /** Down: every connection is dropped unanswered (an offline user, without closing the server). */
  setDown(down: boolean): void;
  /** File bodies from now on go out over one link of `bytesPerSecond` that they share (null: as fast as loopback). */
  setRate(bytesPerSecond: number | null): void;
  close(): Promise<void>;
}

const EXTRA = 4096;

/** `Range: bytes=a-[b]` against a file of `size` bytes → the inclusive range, or null (whole file). */
export function parseRange(h: string | undefined, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d+)-(\d*)$/.exec(h ?? '');
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  return start <= end ? { start, end } : null;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.onnx': 'application/octet-stream', '.md': 'text/markdown' };

function copyModel(src: string, dest: string, skip: (rel: string) => boolean): void {
  for (const entry of fs.readdirSync(src, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath, entry.name);
    const rel = path.relative(src, abs);
    if (skip(rel)) continue;
    fs.mkdirSync(path.join(dest, path.dirname(rel)), { recursive: true });
    fs.copyFileSync(abs, path.join(dest, rel));
  }
}

/** Lays out `root/{org}/{name}/…` from `modelDir` (the served revision is always "main"). */
export function layOutModels(modelDir: string, root: string): void {
  const onlyFp32 = (rel: string) => rel.startsWith('onnx') && rel !== path.join('onnx', 'model.onnx');
  copyModel(modelDir, path.join(root, MIRROR_MODELS.good), () => false);
  const corrupt = path.join(root, MIRROR_MODELS.corrupt);
  copyModel(modelDir, corrupt, onlyFp32);
  const size = fs.statSync(path.join(modelDir, 'onnx/model.onnx')).size;
  // Deterministic garbage (not a protobuf): a corrupted or truncated download.
  const garbage = Buffer.alloc(size);
  let seed = crypto.createHash('sha256').update('corrupt').digest();
  for (let i = 0; i < size; i += seed.length) {
    seed.copy(garbage, i);
    seed = crypto.createHash('sha256').update(seed).digest();
  }
  fs.writeFileSync(path.join(corrupt, 'onnx/model.onnx'), garbage);
  copyModel(modelDir, path.join(root, MIRROR_MODELS.noTokenizer), (rel) => onlyFp32(rel) || rel === 'tokenizer.json' || rel === 'tokenizer_config.json');
  const badTokenizer = path.join(root, MIRROR_MODELS.badTokenizer);
  copyModel(modelDir, badTokenizer, onlyFp32);
  fs.writeFileSync(path.join(badTokenizer, 'tokenizer.json'), '<!doctype html><title>Sign in</title>');
}

/**
 * One link of `rate` bytes a second that every paced body shares, as a user's connection is shared by
 * the files a load downloads at once. Each chunk goes out when the link would have finished sending it;
 * a timer that fires late is caught up on (up to CATCH_UP_MS), so the average rate holds over a file.
 */
export class Link {
  private free = 0;
  constructor(readonly rate: number) {}

  pace(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        const now = performance.now();
        this.free = Math.max(this.free, now - CATCH_UP_MS) + (chunk.length * 1000) / this.rate;
        const wait = this.free - now;
        if (wait <= 0) done(null, chunk);
        else setTimeout(() => done(null, chunk), wait);
      },
    });
  }
}
const CATCH_UP_MS = 50;

export async function startModelHost(modelDir: string, root: string): Promise<ModelHost> {
  layOutModels(modelDir, root);
  const requests: ModelHost['requests'] = [];
  const faults: { pathEnd: string; kind: HostFault; times: number }[] = [];
  let down = false;
  let link: Link | null = null;
  const server = http.createServer((req, res) => {
    if (down) return void req.socket.destroy();
    const head = (status: number, headers: Record<string, string | number>) => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', status, ...(req.headers.range ? { range: req.headers.range } : {}) });
      res.writeHead(status, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': '*',
        'Access-Control-Expose-Headers': 'Content-Length, Content-Type, ETag, Content-Range, Accept-Ranges',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'Cache-Control': 'no-store',
        ...headers,
      });
    };
    const send = (status: number, headers: Record<string, string | number>, body?: fs.ReadStream | string) => {
      head(status, headers);
      if (req.method === 'HEAD' || body === undefined) res.end();
      else if (typeof body === 'string') res.end(body);
      else if (link) body.pipe(link.pace()).pipe(res);
      else body.pipe(res);
    };
    if (req.method === 'OPTIONS') return send(204, {});
    // The request log, for tests (they run in another process than this server).
    if (req.url === '/__log') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      return void res.end(JSON.stringify(requests));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { 'Content-Type': 'text/plain' }, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, { 'Content-Type': 'text/plain' }, 'bad url');
    }
    // /{org}/{name}/resolve/{revision}/{file...}
    const m = /^\/([\w.-]+)\/([\w.-]+)\/resolve\/main\/(.+)$/.exec(pathname);
    const file = m ? path.resolve(root, m[1]!, m[2]!, m[3]!) : null;
    if (!file || !file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      const body = `Entry not found: ${pathname}`;
      return send(404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) }, body);
    }
    const stat = fs.statSync(file);
    const size = stat.size;
    const etag = `"${size}-${Math.round(stat.mtimeMs)}"`;
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const base = { 'Content-Type': type, 'Accept-Ranges': 'bytes', ETag: etag };
    // transformers.js probes files with `Range: bytes=0-0`: faults are for downloads.
    const fault = req.method === 'GET' && req.headers.range !== 'bytes=0-0' ? faults.find((f) => f.times > 0 && pathname.endsWith(f.pathEnd)) : undefined;
    if (fault) fault.times--;
    if (fault?.kind === '500') return send(500, { 'Content-Type': 'text/plain' }, 'internal error (test fault)');
    const ifRange = req.headers['if-range'];
    const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Record<string, string | number> = { ...base, 'Content-Length': end - start + 1 };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const status = range ? 206 : 200;
    if (fault?.kind === 'slow') return void setTimeout(() => send(status, headers, fs.createReadStream(file, { start, end })), SLOW_MS);
    if (fault?.kind === 'pause') {
      head(status, headers);
      const half = start + Math.floor((end - start + 1) / 2);
      const first = fs.createReadStream(file, { start, end: half - 1 });
      first.pipe(res, { end: false });
      first.on('end', () => setTimeout(() => fs.createReadStream(file, { start: half, end }).pipe(res), PAUSE_MS));
      return;
    }
    if (!fault || req.method === 'HEAD') return send(status, headers, fs.createReadStream(file, { start, end }));
    const len = end - start + 1;
    if (fault.kind === 'long') headers['Content-Length'] = len + EXTRA;
    head(status, headers);
    const upTo = fault.kind === 'cut' ? start + Math.floor(len / 2) : fault.kind === 'short' ? end - EXTRA : end;
    const body = fs.createReadStream(file, { start, end: upTo });
    body.pipe(res, { end: false });
    body.on('end', () => {
      if (fault.kind === 'long') res.end(Buffer.alloc(EXTRA, 7));
      else if (fault.kind === 'short') res.socket?.end();
      // Dropped a moment after the bytes went out, so the client has read them (a reset can discard unread data).
      else setTimeout(() => res.socket?.destroy(), 200);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    fault: (pathEnd, kind, times = 1) => void faults.push({ pathEnd, kind, times }),
    setDown: (d) => void (down = d),
    setRate: (r) => void (link = r === null ? null : new Link(r)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
