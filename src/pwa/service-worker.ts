/// <reference lib="webworker" />
/**
 * The app's service worker. Three jobs, in this order of importance:
 *
 * 1. Cross-origin isolation where the host cannot send headers (GitHub Pages and most static
 *    hosts): every same-origin response it hands the page gets COOP/COEP/CORP, so the page (and its
 *    workers) become `crossOriginIsolated`, SharedArrayBuffer exists and ONNX Runtime can run more
 *    than one WASM thread. src/pwa/register.ts reloads the page once when the worker first takes
 *    control, because isolation is decided when a document loads.
 * 2. Offline: the app shell (HTML, JS, CSS, icons, manifest) is precached at install; ONNX
 *    Runtime's .wasm/.mjs and the bundled suites are precached right after, when the page asks
 *    (kept out of install so a first visit is not held up by 40 MB before it becomes isolated).
 * 3. Models in the Cache API: model files the app fetches from its own origin (`models/…`) are
 *    kept in the "slm-models-<hash>" cache on first use (stored while they stream to the page) and
 *    served from it afterwards. Hub and mirror downloads are stored by the model worker
 *    (engines/local/worker/model-store.ts, "transformers-cache").
 *
 * The precache list is written into this file at build time (scripts/vite-pwa.ts), so a new build
 * is a new service worker, and its caches replace the old build's on activation.
 */
import type { PrecacheManifest, SwReply, SwRequest } from './messages';

declare const self: ServiceWorkerGlobalScope & { __SLM_PRECACHE__: PrecacheManifest };

const manifest: PrecacheManifest = self.__SLM_PRECACHE__;
const APP_CACHE = `slm-app-${manifest.version}`;
/** Named by a hash of the embedded model files: a rebuilt model never meets a stale copy. */
const MODEL_CACHE = `slm-models-${manifest.modelsVersion}`;
const scope = new URL(self.registration.scope);
const abs = (rel: string) => new URL(rel, scope).href;
const SHELL = new Set(manifest.shell.map(abs));
const EXTRA = new Set([...manifest.ort, ...manifest.extra].map(abs));
const INDEX = abs('index.html');

const ISOLATION: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The same response with the isolation headers added (opaque and error responses are left alone). */
function isolate(res: Response): Response {
  if (res.type === 'opaque' || res.type === 'opaqueredirect' || res.status === 0) return res;
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(APP_CACHE);
      // `cache: 'reload'` bypasses the HTTP cache, so a shell file is never an older build's.
      await cache.addAll([...SHELL].map((u) => new Request(u, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const stale = (n: string) => (n.startsWith('slm-app-') && n !== APP_CACHE) || (n.startsWith('slm-models-') && n !== MODEL_CACHE) || n === NOTES;
      await Promise.all(names.filter(stale).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

/** Downloads what is not cached yet of the ONNX Runtime files and suites. */
async function precacheExtra(): Promise<SwReply> {
  const cache = await caches.open(APP_CACHE);
  const missing: string[] = [];
  for (const u of EXTRA) if (!(await cache.match(u))) missing.push(u);
  const failed: string[] = [];
  for (const u of missing) {
    try {
      const res = await fetch(u, { cache: 'reload' });
      if (res.ok) await cache.put(u, res);
      else failed.push(`${new URL(u).pathname} (${res.status})`);
    } catch {
      failed.push(new URL(u).pathname);
    }
  }
  return status(failed);
}

async function status(failed: string[] = []): Promise<SwReply> {
  const cache = await caches.open(APP_CACHE);
  let cached = 0;
  for (const u of [...SHELL, ...EXTRA]) if (await cache.match(u)) cached++;
  return { kind: 'status', version: manifest.version, cached, total: SHELL.size + EXTRA.size, offlineReady: cached === SHELL.size + EXTRA.size, failed };
}

self.addEventListener('message', (event) => {
  const req = event.data as SwRequest | undefined;
  const port = event.ports[0];
  if (!req || !port) return;
  switch (req.kind) {
    case 'precache':
      event.waitUntil(precacheExtra().then((r) => port.postMessage(r)));
      break;
    case 'status':
      event.waitUntil(status().then((r) => port.postMessage(r)));
      break;
  }
});

function isModelFile(url: URL): boolean {
  return url.origin === scope.origin && url.pathname.startsWith(`${scope.pathname}models/`);
}

/** Read by the model worker (engines/local/worker/sw-cache.ts): why a model file was not stored. */
const NOTES = 'slm-store-notes';

async function noteStored(url: string, e: unknown): Promise<void> {
  const notes = await caches.open(NOTES);
  if (e === null) {
    await notes.delete(url);
    return;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const file = new URL(url).pathname.split('/').slice(-2).join('/');
  const why =
    err.name === 'QuotaExceededError'
      ? `Not cached: ${file} does not fit this site's storage quota. Free space in the Cache tab.`
      : `Not cached: the browser refused to store ${file}: ${err.name}: ${err.message}. Off-the-record windows (Incognito, Guest) refuse a single file of about 250 MB or more; a normal window keeps it.`;
  await notes.put(url, new Response(why));
}

/**
 * Cache first, else the network. A good network answer is streamed to the page while a copy is
 * stored (tee): the page never waits for the store, and a store the browser refuses (quota, an
 * off-the-record profile's size limit) only means "not cached", noted for the Load status. Waiting
 * for the whole put before answering made downloads 2.2-2.3x slower and failed the load outright
 * where the put failed.
 */
async function cacheFirst(request: Request, cacheName: string, done: () => void): Promise<Response> {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) {
    done();
    return hit;
  }
  const res = await fetch(request);
  if (!res.ok || res.status !== 200 || !res.body || request.method !== 'GET') {
    done();
    return res;
  }
  const [page, copy] = res.body.tee();
  const init = { status: res.status, statusText: res.statusText, headers: res.headers };
  const isModel = cacheName === MODEL_CACHE;
  cache
    .put(request, new Response(copy, init))
    .then(() => (isModel ? noteStored(request.url, null) : undefined))
    .catch((e: unknown) => (isModel ? noteStored(request.url, e) : undefined))
    .catch(() => undefined)
    .finally(done);
  return new Response(page, init);
}

/** Pages: the network first (a new deploy shows at once), the cached shell when offline. */
async function page(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (e) {
    const cache = await caches.open(APP_CACHE);
    const hit = (await cache.match(request, { ignoreSearch: true })) ?? (await cache.match(INDEX));
    if (hit) return hit;
    throw e;
  }
}

/**
 * HEAD (the model preflight asks each file's size this way): described from the cached copy when
 * there is one, since that copy is what the GET will return; else the network.
 */
async function head(request: Request, cacheName: string): Promise<Response> {
  const hit = await (await caches.open(cacheName)).match(request.url, { ignoreSearch: true });
  if (!hit) return fetch(request);
  return new Response(null, { status: hit.status, statusText: hit.statusText, headers: hit.headers });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== scope.origin || (request.method !== 'GET' && request.method !== 'HEAD')) return; // untouched
  if (request.headers.has('range')) return; // partial content is not cached
  const href = url.origin + url.pathname;
  const cacheName = SHELL.has(href) || EXTRA.has(href) ? APP_CACHE : isModelFile(url) ? MODEL_CACHE : null;
  let answer: Promise<Response>;
  if (request.mode === 'navigate') answer = page(request);
  else if (cacheName && request.method === 'HEAD') answer = head(request, cacheName);
  else if (cacheName) {
    // Keeps the worker alive until the copy is stored (registered now, while the event is dispatched).
    let done = () => undefined as void;
    event.waitUntil(new Promise<void>((r) => (done = r)));
    answer = cacheFirst(request, cacheName, done);
    answer.catch(done);
  }
  else answer = fetch(request);
  event.respondWith(answer.then(isolate));
});
