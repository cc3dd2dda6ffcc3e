/**
 * Browser cache of downloaded models: transformers.js keeps every file it downloads in the Cache
 * Storage bucket "transformers-cache", keyed by URL. This groups those entries per model, deletes
 * one model or all, and reads the origin's storage estimate.
 */
export const MODEL_CACHE = 'transformers-cache';

export interface CachedFile {
  url: string;
  bytes: number;
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
    const res = await cache.match(req);
    files.push({ url: req.url, bytes: res ? await entrySize(res) : 0 });
  }
  return groupCachedFiles(files);
}

export async function deleteCachedModel(model: CachedModel): Promise<void> {
  const cache = await caches.open(MODEL_CACHE);
  await Promise.all(model.files.map((f) => cache.delete(f.url)));
}

export async function clearModelCache(): Promise<void> {
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
