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
 *    (kept out of install so a first visit is not held up by 14 MB before it becomes isolated).
 *    The plain .wasm is precached but not served from here (ORT_WASM): the model worker reads the
 *    copy itself when the network fails.
 *    What only an optional path needs (the openai SDK, ONNX Runtime's WebGPU build) is cached
 *    the first time it is fetched (manifest.onUse).
 * 3. Model files (`models/…`) are left to the network, untouched: the model worker stores every
 *    model, embedded or downloaded, itself (engines/local/worker/model-store.ts: verified, in
 *    parts, "transformers-cache") and reads it back offline. Serving them from here cost 2.2-2.3x a
 *    plain fetch while this worker stored the whole file before it answered, and still ~4x when it
 *    streamed a tee'd copy (every chunk then passes through this worker's thread; measured, 128 MiB,
 *    paired: 44 s vs 10 s on a busy 2-core machine); a put the browser refused broke the load.
 *
 * The precache list is written into this file at build time (scripts/vite-pwa.ts), so a new build
 * is a new service worker, and its caches replace the old build's on activation.
 */
import type { PrecacheManifest, SwReply, SwRequest } from './messages';

declare const self: ServiceWorkerGlobalScope & { __SLM_PRECACHE__: PrecacheManifest };

const manifest: PrecacheManifest = self.__SLM_PRECACHE__;
const APP_CACHE = `slm-app-${manifest.version}`;
const scope = new URL(self.registration.scope);
const abs = (rel: string) => new URL(rel, scope).href;
const SHELL = new Set(manifest.shell.map(abs));
/**
 * ONNX Runtime's files sit in a folder named for its exact build, so whatever the HTTP cache holds
 * for them is this build's: they are precached through it, not around it (`cache: 'reload'`).
 * Measured reason: the reload replaced the HTTP cache's copy of the .wasm, and with it the code
 * Chromium had cached for it during the first load, so the second visit's load began in the
 * baseline tier again (session creation 1.49 s against 0.57 s on the third; slm-reference fp32).
 */
const ORT_FILES = new Set(manifest.ort.map(abs));
const EXTRA = new Set([...ORT_FILES, ...manifest.extra.map(abs)]);
const ON_USE = new Set(manifest.onUse.map(abs));
/**
 * ONNX Runtime's plain .wasm, precached for offline use but not served from here: the model worker
 * fetches it itself (ort-setup.ts `ortBinary`, the precached copy when offline), because Chromium
 * kept its optimised code in the code cache only for the network's answer. Served from Cache
 * Storage by this worker, every load began in V8's baseline tier again (warm-up probe 346–440 ms
 * against 130–160, 135M q8; warm load ~1 s longer).
 */
const ORT_WASM = new Set([...ORT_FILES].filter((u) => u.endsWith('.wasm')));
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

/**
 * Chromium's static routing (the ServiceWorker Static Routing API, Chrome 123+; absent elsewhere,
 * where the fetch handler's early return does the same, later): requests this worker never
 * answers — another origin's (the hosted endpoint's API), and any POST — go to the network
 * without a fetch event. Measured in the page before: a hosted request waited 0.1-3.2 ms
 * (resource timing, workerStart → fetchStart) for this worker's thread to wake up and decline it.
 */
interface RouterCondition {
  requestMethod?: string;
  urlPattern?: { protocol?: string; hostname?: string; port?: string };
  not?: RouterCondition;
}
type WithRoutes = ExtendableEvent & { addRoutes?: (rules: { condition: RouterCondition; source: 'network' }[]) => Promise<void> };

function addNetworkRoutes(event: WithRoutes): Promise<void> {
  const own = { protocol: scope.protocol.slice(0, -1), hostname: scope.hostname, port: scope.port };
  try {
    const added = event.addRoutes?.([
      { condition: { not: { urlPattern: own } }, source: 'network' },
      { condition: { requestMethod: 'POST' }, source: 'network' },
    ]);
    // A browser that knows the API but not a condition rejects the rules: the fetch handler stays.
    return (added ?? Promise.resolve()).catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(addNetworkRoutes(event));
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
      // slm-models-*: model copies of earlier builds (models are now kept by the model worker's store).
      const stale = (n: string) => (n.startsWith('slm-app-') && n !== APP_CACHE) || n.startsWith('slm-models-');
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
      const res = await fetch(u, { cache: ORT_FILES.has(u) ? 'default' : 'reload' });
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

/** Cache first, else the network (and keep a good answer for next time). */
async function cacheFirst(request: Request, cacheName: string, store: boolean): Promise<Response> {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(request);
  if (store && res.ok && res.status === 200) await cache.put(request, res.clone());
  return res;
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
  if (isModelFile(url)) return; // the network's own path: no respondWith, no copy through this thread
  const href = url.origin + url.pathname;
  if (ORT_WASM.has(href)) return; // the network's own path too (see ORT_WASM)
  const cacheName = SHELL.has(href) || EXTRA.has(href) || ON_USE.has(href) ? APP_CACHE : null;
  let answer: Promise<Response>;
  if (request.mode === 'navigate') answer = page(request);
  else if (cacheName && request.method === 'HEAD') answer = head(request, cacheName);
  else if (cacheName) answer = cacheFirst(request, cacheName, true);
  else answer = fetch(request);
  event.respondWith(answer.then(isolate));
});
