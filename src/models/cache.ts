/**
 * Browser cache of downloaded models (hub and mirror sources). The model worker's store
 * (engines/local/worker/model-store.ts) keeps each file's record in the Cache Storage bucket
 * "transformers-cache" (`{url}?slm-meta`: the file's size, the sizes of the parts written so far, its
 * ETag, whether it is complete) and its bytes either in one file of the Origin Private File System
 * (the record's `opfs`: src/models/opfs.ts, where the browser offers synchronous access to it: a
 * faster read) or, as before, as Cache Storage entries `{url}?slm-part=N` (a second part only after a
 * download was cut and resumed with an HTTP Range request; what a browser without that access gets,
 * and what this app stored before 2026-12-01, still read). A load trusts only a complete record whose
 * bytes add up to its size. Entries under the bare URL were written by transformers.js
 * itself before this store existed: listed and deletable here, never read. This groups the files
 * per model, deletes one model or all, reads the origin's storage estimate and asks for persistence.
 */
import { fmtBytes } from '../metrics/format';
import { clearOpfs, removeOpfsFiles } from './opfs';

export const MODEL_CACHE = 'transformers-cache';

const PART = 'slm-part';
const META = 'slm-meta';

/** The Cache Storage key of part `i` of the file at `url`. */
export function partKey(url: string, i: number): string {
  return `${url}${url.includes('?') ? '&' : '?'}${PART}=${i}`;
}

/** The key of the file's record. */
export function metaKey(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${META}`;
}

/** What a cache key stores: a file's part, its record, or a whole file (transformers.js's own entries). */
export function parseStoreKey(key: string): { url: string; kind: 'part' | 'meta' | 'legacy'; part: number } {
  const m = new RegExp(`[?&](${PART}=(\\d+)|${META})$`).exec(key);
  if (!m) return { url: key, kind: 'legacy', part: 0 };
  return { url: key.slice(0, m.index), kind: m[2] === undefined ? 'meta' : 'part', part: Number(m[2] ?? 0) };
}

/** The record kept with a file's parts. */
export interface FileMeta {
  v: 1;
  /** The whole file's size in bytes (the host's Content-Length). */
  size: number;
  /** Size of each stored part, in order. */
  parts: number[];
  /** The host's ETag, sent back as If-Range when a cut download is resumed. */
  etag: string | null;
  complete: boolean;
  /** The OPFS file that holds the parts one after another (absent: the parts are Cache Storage entries). */
  opfs?: string;
}

export function parseMeta(text: string): FileMeta | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Partial<FileMeta>;
  const okNum = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (m.v !== 1 || !okNum(m.size) || !Array.isArray(m.parts) || !m.parts.every(okNum) || typeof m.complete !== 'boolean') return null;
  if (m.etag !== null && typeof m.etag !== 'string') return null;
  if (m.opfs !== undefined && (typeof m.opfs !== 'string' || !/^[0-9a-f]{64}$/.test(m.opfs))) return null;
  const meta: FileMeta = { v: 1, size: m.size, parts: m.parts, etag: m.etag ?? null, complete: m.complete };
  if (m.opfs !== undefined) meta.opfs = m.opfs;
  return meta;
}

/** Bytes the record's parts hold. */
export function storedBytes(meta: FileMeta): number {
  return meta.parts.reduce((s, n) => s + n, 0);
}

/**
 * Whether stored parts of `actual` sizes can be trusted as the record says: the parts exist with the
 * recorded sizes, add up to the file's size (complete) or less (partial), and match the size the
 * host announces now when it answered (`announced`, null offline).
 */
export function checkStored(meta: FileMeta, actual: (number | null)[], announced: number | null): { ok: true } | { ok: false; why: string } {
  if (actual.length !== meta.parts.length) return { ok: false, why: `${actual.length} of ${meta.parts.length} parts present` };
  for (const [i, n] of actual.entries()) {
    if (n === null) return { ok: false, why: `part ${i + 1} is missing` };
    if (n !== meta.parts[i]) return { ok: false, why: `part ${i + 1} holds ${n} bytes, ${meta.parts[i]} recorded` };
  }
  return checkTotals(meta, announced);
}

/**
 * The same for a record whose parts sit one after another in one OPFS file of `fileBytes` bytes (null:
 * the file is missing). A file longer than its record (a part written, its record not yet) is fine:
 * the record counts, and a resumed download writes after what it counts.
 */
export function checkStoredFile(meta: FileMeta, fileBytes: number | null, announced: number | null): { ok: true } | { ok: false; why: string } {
  if (fileBytes === null) return { ok: false, why: 'its file is missing' };
  const have = storedBytes(meta);
  if (fileBytes < have || (meta.complete && fileBytes !== meta.size)) return { ok: false, why: `its file holds ${fileBytes} bytes, ${meta.complete ? meta.size : have} recorded` };
  return checkTotals(meta, announced);
}

function checkTotals(meta: FileMeta, announced: number | null): { ok: true } | { ok: false; why: string } {
  const have = storedBytes(meta);
  if (meta.complete ? have !== meta.size : have >= meta.size) return { ok: false, why: `${have} of ${meta.size} bytes stored` };
  if (announced !== null && announced !== meta.size) return { ok: false, why: `the host now announces ${announced} bytes, the cached copy has ${meta.size}` };
  return { ok: true };
}

/**
 * Why a file was not stored, in words, from the error the browser gave and what the estimate says.
 * `model`: the model the file belongs to: a refused quota names it with its size (the file the
 * browser happened to refuse may be a small one written while the weights' parts filled the quota).
 */
/** The name of the error a download's store throws when what it continues was deleted meanwhile (model-store.ts). */
export const STORE_CHANGED = 'StoreChangedError';

export function notStoredReason(file: string, bytes: number | null, err: { name: string; message: string }, est: StorageInfo | null, model: { id: string; bytes: number | null } | null = null): string {
  const size = bytes === null ? '' : ` (${fmtBytes(bytes)})`;
  if (err.name === STORE_CHANGED) {
    return `Not cached: ${model ? model.id : file} was deleted from this browser's cache while this load was storing it (${file}: ${err.message}). The model is loaded; nothing of it was kept. Load it again to cache it.`;
  }
  if (err.name === 'QuotaExceededError') {
    const reported = est && est.quota !== null && est.usage !== null ? ` (the browser reports ${fmtBytes(est.usage)} used of ${fmtBytes(est.quota)})` : '';
    if (model) {
      const total = model.bytes === null ? '' : ` (${fmtBytes(model.bytes)})`;
      return `Not cached: ${model.id}${total} does not fit this site's storage quota: the browser refused to store ${file}${size}${reported}. Nothing of the model was kept; free space in the Cache tab.`;
    }
    return `Not cached: ${file}${size} does not fit this site's storage quota: the browser refused to store it${reported}. Nothing of the model was kept; free space in the Cache tab.`;
  }
  const otr = bytes !== null && bytes > 200e6
    ? ' Off-the-record windows (Incognito, Guest) refuse to cache a single file of about 250 MB or more; a normal window keeps it.'
    : '';
  return `Not cached: the browser refused to store ${file}${size}: ${err.name}: ${err.message}.${otr}`;
}

/** The quota check before a download: null when `needed` fits, else the reason with the sizes. */
export function quotaShortfall(modelId: string, needed: number, est: StorageInfo | null): string | null {
  if (!est || est.quota === null || est.usage === null) return null;
  const free = Math.max(0, est.quota - est.usage);
  if (needed <= free) return null;
  return `Not cached: ${modelId} needs ${fmtBytes(needed)} but this site may store only ${fmtBytes(free)} more${quotaText(est)}. It loads from the network each time; free space in the Cache tab to keep it.`;
}

function quotaText(est: StorageInfo | null): string {
  if (!est || est.quota === null || est.usage === null) return '';
  return ` (quota ${fmtBytes(est.quota)}, ${fmtBytes(est.usage)} used)`;
}

export interface CachedFile {
  url: string;
  bytes: number;
  /** False for a download that was cut and is kept to be resumed (its bytes so far). */
  complete?: boolean;
}

export interface CachedModel {
  /** Host + model id + revision: what a user recognizes. */
  key: string;
  modelId: string;
  host: string;
  revision: string;
  files: CachedFile[];
  bytes: number;
}

/** Groups cached URLs by model (`…/{model}/resolve/{revision}/{file}`); anything else by host+path. */
export function groupCachedFiles(files: CachedFile[]): CachedModel[] {
  const groups = new Map<string, CachedModel>();
  for (const f of files) {
    let url: URL;
    try {
      url = new URL(f.url);
    } catch {
      continue;
    }
    const parts = url.pathname.split('/').filter(Boolean);
    const at = parts.indexOf('resolve');
    let modelId: string;
    let revision = '';
    let prefix: string;
    if (at >= 1) {
      const idParts = parts.slice(Math.max(0, at - 2), at);
      modelId = idParts.join('/');
      revision = decodeURIComponent(parts[at + 1] ?? '');
      prefix = parts.slice(0, Math.max(0, at - 2)).join('/');
    } else if (parts.includes('models') && parts.length - parts.lastIndexOf('models') >= 3) {
      // An embedded model: `{app}/models/{name}/…` (its onnx/ files belong to it too).
      const m = parts.lastIndexOf('models');
      modelId = parts[m + 1] ?? '';
      prefix = parts.slice(0, m + 1).join('/');
    } else {
      const dir = parts.slice(0, -1);
      modelId = dir.at(-1) ?? url.pathname;
      prefix = dir.slice(0, -1).join('/');
    }
    const host = `${url.origin}/${prefix ? `${prefix}/` : ''}`;
    const key = `${host}${modelId}${revision ? `@${revision}` : ''}`;
    const g = groups.get(key) ?? { key, modelId, host, revision, files: [], bytes: 0 };
    g.files.push(f);
    g.bytes += f.bytes;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes);
}

async function entrySize(res: Response): Promise<number> {
  const n = Number(res.headers.get('content-length'));
  if (Number.isFinite(n) && n > 0) return n;
  return (await res.blob()).size;
}

export async function listCachedModels(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open(MODEL_CACHE);
  const requests = await cache.keys();
  const files: CachedFile[] = [];
  for (const req of requests) {
    const key = parseStoreKey(req.url);
    if (key.kind === 'part') continue; // counted through its record
    const res = await cache.match(req);
    if (!res) continue;
    if (key.kind === 'legacy') {
      files.push({ url: req.url, bytes: await entrySize(res), complete: true });
      continue;
    }
    const meta = parseMeta(await res.text());
    files.push({ url: key.url, bytes: meta ? storedBytes(meta) : 0, complete: meta?.complete ?? false });
  }
  return groupCachedFiles(files);
}

/** Whether the file at `url` is stored whole (its record says complete), without opening a cache that does not exist. */
export async function isFileStored(url: string): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  try {
    if (!(await caches.has(MODEL_CACHE))) return false;
    const res = await (await caches.open(MODEL_CACHE)).match(metaKey(url));
    return res ? parseMeta(await res.text())?.complete === true : false;
  } catch {
    return false;
  }
}

/** Deletes every entry (parts, record, transformers.js's own copy, the OPFS file) of the given file URLs. */
export async function deleteCachedFiles(urls: Iterable<string>): Promise<void> {
  const wanted = new Set(urls);
  await removeOpfsFiles(wanted);
  if (typeof caches === 'undefined') return;
  const cache = await caches.open(MODEL_CACHE);
  const keys = await cache.keys();
  await Promise.all(keys.filter((k) => wanted.has(parseStoreKey(k.url).url)).map((k) => cache.delete(k)));
}

export async function deleteCachedModel(model: CachedModel): Promise<void> {
  await deleteCachedFiles(model.files.map((f) => f.url));
}

export async function clearModelCache(): Promise<void> {
  await clearOpfs();
  if (typeof caches !== 'undefined') await caches.delete(MODEL_CACHE);
}

export interface StorageInfo {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

export async function storageEstimate(): Promise<StorageInfo> {
  const s = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!s?.estimate) return { usage: null, quota: null, persisted: null };
  const e = await s.estimate();
  const persisted = s.persisted ? await s.persisted() : null;
  return { usage: e.usage ?? null, quota: e.quota ?? null, persisted };
}

/**
 * Asks the browser to keep this site's storage under pressure (`navigator.storage.persist()`, pages
 * only). true: granted; false: refused (the browser may evict cached models when space runs low);
 * null: the browser has no such API.
 */
export async function requestPersistence(): Promise<boolean | null> {
  // `persist` exists on pages only (workers' StorageManager lacks it).
  const s: (StorageManager & { persist?: () => Promise<boolean> }) | undefined = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (!s?.persist) return null;
  try {
    return (await s.persisted?.()) || (await s.persist());
  } catch {
    return false;
  }
}
