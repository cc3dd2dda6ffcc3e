/**
 * Where a share lives in a URL (`#share=…`), without the format: the page reads the fragment on
 * every load, and only a page that holds one loads the codec and its schemas (share/codec.ts).
 */
export const FRAGMENT_KEY = 'share';

/** The share payload in a URL fragment (`#share=…`), or null when the fragment holds none. */
export function payloadFromHash(hash: string): string | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  const params = new URLSearchParams(h);
  return params.get(FRAGMENT_KEY);
}

/** The page URL (any path, query kept) with the share in its fragment. */
export function shareUrl(pageUrl: string, payload: string): string {
  const u = new URL(pageUrl);
  u.hash = `${FRAGMENT_KEY}=${payload}`;
  return u.href;
}
