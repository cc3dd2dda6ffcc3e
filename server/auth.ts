/**
 * Optional API key. When the server was started with a key, every /v1 request must carry it as
 * `Authorization: Bearer <key>` (OpenAI style) or `api-key: <key>` (Azure style). Compared in
 * constant time over digests; the key itself is never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The key a request presents, if any. */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1].trim();
  }
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  return null;
}

/** True when no key is required, or the request presents the right one. */
export function isAuthorized(headers: IncomingHttpHeaders, required: string | null): boolean {
  if (required === null) return true;
  const given = presentedKey(headers);
  return given !== null && timingSafeEqual(digest(given), digest(required));
}
