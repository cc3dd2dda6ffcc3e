/**
 * CORS for the reference server. The app page runs on another origin (Vite on :5173, the server on
 * :8787), is cross-origin isolated (COEP require-corp) and uses the official `openai` client, which
 * sends `authorization`, `content-type` and `x-stainless-*` headers: so preflights must be answered
 * and every response carries `Cross-Origin-Resource-Policy: cross-origin`.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Which browser origins may call the server. */
export interface OriginPolicy {
  /** Any origin at all ("*"). */
  any: boolean;
  /** Any http(s) origin on localhost, 127.0.0.1 or [::1], whatever the port. */
  localhost: boolean;
  /** Exact origins (scheme://host[:port]). */
  exact: ReadonlySet<string>;
}

export const DEFAULT_ORIGIN_POLICY: OriginPolicy = { any: false, localhost: true, exact: new Set() };

/**
 * Builds a policy from `--allow-origin` values: `*`, `localhost`, or full origins
 * (`https://user.github.io`). Throws on something that is not an origin.
 */
export function parseOriginPolicy(values: readonly string[]): OriginPolicy {
  if (values.length === 0) return DEFAULT_ORIGIN_POLICY;
  let any = false;
  let localhost = false;
  const exact = new Set<string>();
  for (const raw of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    if (raw === '*') any = true;
    else if (raw === 'localhost') localhost = true;
    else {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`--allow-origin: "${raw}" is not an origin (expected e.g. https://example.com:8443, "localhost" or "*").`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--allow-origin: "${raw}" must be an http(s) origin.`);
      exact.add(url.origin);
    }
  }
  return { any, localhost, exact };
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isOriginAllowed(origin: string, policy: OriginPolicy): boolean {
  if (policy.any) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (policy.localhost && LOCAL_HOSTS.has(url.hostname)) return true;
  return policy.exact.has(url.origin);
}

/** Request headers a browser may send (lower case). `x-stainless-*` covers the openai client's telemetry headers. */
const ALLOWED_HEADERS = new Set([
  'accept',
  'authorization',
  'api-key',
  'content-type',
  'idempotency-key',
  'openai-beta',
  'openai-organization',
  'openai-project',
  'x-request-id',
]);
const ALLOWED_HEADER_PREFIXES = ['x-stainless-'];

export function isHeaderAllowed(name: string): boolean {
  const h = name.trim().toLowerCase();
  return ALLOWED_HEADERS.has(h) || ALLOWED_HEADER_PREFIXES.some((p) => h.startsWith(p));
}

/** Response headers the page may read. */
export const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'x-slm-queued-ms', 'x-slm-first-token-ms', 'x-slm-model', 'openai-processing-ms'];

export const ALLOWED_METHODS = ['GET', 'POST', 'OPTIONS'];

/** Headers for every response to an allowed origin (none for requests without an Origin header). */
export function corsHeaders(origin: string | undefined, policy: OriginPolicy): Record<string, string> {
  const base: Record<string, string> = { 'Cross-Origin-Resource-Policy': 'cross-origin', Vary: 'Origin' };
  if (!origin || !isOriginAllowed(origin, policy)) return base;
  return { ...base, 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS.join(', ') };
}

/** Extra headers for a preflight (OPTIONS) from an allowed origin. */
export function preflightHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const requested = (headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const allowed = requested.filter(isHeaderAllowed);
  const out: Record<string, string> = {
    'Access-Control-Allow-Methods': ALLOWED_METHODS.join(', '),
    'Access-Control-Allow-Headers': (allowed.length ? allowed : ['authorization', 'content-type', 'api-key']).join(', '),
    'Access-Control-Max-Age': '600',
  };
  // Chrome's Private Network Access: a public page calling a server on localhost asks first.
  if (headers['access-control-request-private-network'] === 'true') out['Access-Control-Allow-Private-Network'] = 'true';
  return out;
}
