/**
 * Registers the service worker (production builds only: `vite` dev sends the isolation headers
 * itself) and makes the page cross-origin isolated where the host sends no COOP/COEP headers:
 * the first time the worker takes control of a page that is not isolated, the page reloads once
 * (a sessionStorage flag stops a second reload if isolation still fails, e.g. a browser that
 * ignores service-worker headers; the app then runs single-threaded and says so).
 *
 * Called before the app renders, so a reload never interrupts a model load.
 */
import type { SwReply, SwRequest } from './messages';

const RELOAD_FLAG = 'slm.coi-reload';

export type SwSetup = 'unsupported' | 'registered' | 'reloading' | 'failed';

/**
 * The registration's active worker. On a first visit to a host that sends the isolation headers
 * there is no reload, so the app mounts while the worker registered above is still installing:
 * this waits for it to activate (`navigator.serviceWorker.ready`) instead of answering null, which
 * left the offline badge out on every first visit until the next one (seen 2026-12-02: the bench's
 * hosted section waited out its 120 s for the badge on every run).
 */
async function activeWorker(timeoutMs: number): Promise<ServiceWorker | null> {
  const reg = await navigator.serviceWorker.getRegistration();
  if (!reg) return null; // none registered (dev server): none will become ready
  if (reg.active) return reg.active;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  return Promise.race([navigator.serviceWorker.ready.then((r) => r.active), late]).finally(() => clearTimeout(timer));
}

/** Sends a request to the active service worker (waiting for a first visit's to activate) and waits for its reply. */
export async function askServiceWorker(req: SwRequest, timeoutMs = 120_000): Promise<SwReply | null> {
  if (!('serviceWorker' in navigator)) return null;
  const sw = await activeWorker(timeoutMs);
  if (!sw) return null;
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => resolve(null), timeoutMs);
    ch.port1.onmessage = (e: MessageEvent<SwReply>) => {
      clearTimeout(timer);
      resolve(e.data);
    };
    sw.postMessage(req, [ch.port2]);
  });
}

function session(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}

/** Resolves once this page is controlled by a service worker (or after `timeoutMs`). */
function controlled(timeoutMs: number): Promise<boolean> {
  if (navigator.serviceWorker.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

export async function setupServiceWorker(url: string): Promise<SwSetup> {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return 'unsupported';
  let reg: ServiceWorkerRegistration;
  try {
    reg = await navigator.serviceWorker.register(url, { scope: './' });
  } catch {
    return 'failed';
  }
  if (window.crossOriginIsolated) {
    session()?.removeItem(RELOAD_FLAG);
    return 'registered';
  }
  // Not isolated: once the worker controls this page, a reload comes back through it, with headers.
  if (session()?.getItem(RELOAD_FLAG)) return 'registered'; // tried once already this session
  // A hard reload bypasses an active worker: a plain reload goes through it again.
  if (!navigator.serviceWorker.controller && !reg.active && !(await controlled(10_000))) return 'registered';
  session()?.setItem(RELOAD_FLAG, '1');
  location.reload();
  return 'reloading';
}
