/**
 * The browser's localStorage when it can be used, else null: outside a browser there is none, and where
 * storage is disabled (blocked cookies, some sandboxed frames) reading the property itself throws a
 * SecurityError. Every persisted setting, draft, key and measurement goes through this, so that such a
 * browser loses only the persistence, never the feature.
 */
export function localStore(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
