/**
 * Bundled models (served from the app's own `models/` folder) are cached by the service worker
 * (src/pwa/service-worker.ts), not by the worker's store. This tells, from inside the model
 * worker, where a bundled load's files came from and whether the service worker kept them: it
 * stores them while it streams them to the page, and writes why when the browser refused
 * (SW_NOTES, one entry per file URL).
 */
import { errorText } from '../../../lib/errors';
import type { CacheReport, PlannedFile } from '../protocol';

/** Written by the service worker when a model file could not be stored (the text is the reason). */
export const SW_NOTES = 'slm-store-notes';
const SW_MODELS = 'slm-models-';

async function swModelCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    const name = (await caches.keys()).find((n) => n.startsWith(SW_MODELS));
    return name ? await caches.open(name) : null;
  } catch {
    return null;
  }
}

/** The plan's files the service worker holds now. */
export async function serviceWorkerCopies(files: PlannedFile[]): Promise<Set<string>> {
  const cache = await swModelCache();
  const have = new Set<string>();
  if (!cache) return have;
  for (const f of files) if (await cache.match(f.url, { ignoreSearch: true })) have.add(f.url);
  return have;
}

/** Whether the service worker answered this worker's requests (its resource timings say so). */
function viaServiceWorker(urls: string[]): boolean {
  const entries = urls.flatMap((u) => performance.getEntriesByName(u, 'resource')) as PerformanceResourceTiming[];
  return entries.some((e) => e.workerStart > 0);
}

/** Same-origin files report transferSize 0 when the HTTP cache served them (no service worker). */
function servedFromHttpCache(urls: string[]): boolean {
  const entries = urls.flatMap((u) => performance.getEntriesByName(u, 'resource')).filter((e): e is PerformanceResourceTiming => 'transferSize' in e);
  const gets = entries.filter((e) => e.decodedBodySize > 0);
  return gets.length > 0 && gets.every((e) => e.transferSize === 0);
}

/**
 * After a bundled load: 'cache' only when the service worker held every file before the load
 * (a service worker's answer has transferSize 0 whether it came from its cache or the network, so
 * that rule alone labelled first downloads "(cache)"). Stored: waits up to `waitMs` for the
 * service worker to finish writing, then reads its copies and its notes.
 */
export async function bundledReport(files: PlannedFile[], before: Set<string>, wantCache: boolean, waitMs = 5000): Promise<CacheReport> {
  const urls = files.map((f) => f.url);
  const sw = viaServiceWorker(urls);
  if (!sw) {
    return { source: servedFromHttpCache(urls) ? 'cache' : 'network', stored: null, reason: null, notes: [] };
  }
  const source = urls.every((u) => before.has(u)) ? 'cache' : before.size === 0 ? 'network' : 'mixed';
  if (!wantCache) return { source, stored: null, reason: null, notes: [] };
  const deadline = performance.now() + waitMs;
  for (;;) {
    const have = await serviceWorkerCopies(files);
    const reasons: string[] = [];
    try {
      const notes = await caches.open(SW_NOTES);
      for (const u of urls) {
        if (have.has(u)) continue;
        const n = await notes.match(u);
        if (n) reasons.push(await n.text());
      }
    } catch (e) {
      reasons.push(`Not cached: the service worker's notes could not be read (${errorText(e)}).`);
    }
    if (reasons.length) return { source, stored: false, reason: reasons.join(' '), notes: [] };
    if (have.size === urls.length) return { source, stored: true, reason: null, notes: [] };
    if (performance.now() > deadline) {
      return { source, stored: false, reason: `Not cached yet: the service worker had stored ${have.size} of ${urls.length} files when the model was ready.`, notes: [] };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
