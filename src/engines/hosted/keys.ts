/**
 * API keys for hosted endpoints. A key belongs to the origin (scheme://host:port) of the endpoint
 * it was entered for, and is only ever handed out for that origin. Keys live in memory; only with
 * `remember: true` is one written to storage (localStorage in the app), under its origin.
 * Pure logic over a tiny storage interface, so it can be tested with an in-memory store.
 */
import { HostedError } from './errors';
import { localStore } from '../../lib/local-storage';

/** The part of the Web Storage API this module uses. */
export interface KeyStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A key together with the only origin it may be sent to. */
export interface BoundKey {
  readonly origin: string;
  readonly secret: string;
}

export const KEY_STORAGE_PREFIX = 'slm.hosted-key.v1:';

/** The origin of an endpoint URL; HostedError('invalid_config') for something that is not an http(s) URL. */
export function endpointOrigin(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HostedError({ code: 'invalid_config', message: `"${url}" is not a valid URL. Enter the endpoint's full address, e.g. https://api.openai.com/v1.` });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new HostedError({ code: 'invalid_config', message: `The endpoint must be an http(s) URL, not ${u.protocol}.` });
  }
  return u.origin;
}

export function bindKey(endpointUrl: string, secret: string): BoundKey {
  return { origin: endpointOrigin(endpointUrl), secret: secret.trim() };
}

/**
 * The key to send to `requestUrl`: the bound key only if its origin is the request's origin.
 * A key entered for one endpoint is never sent to another (HostedError 'key_origin_mismatch').
 */
export function keyForRequest(key: BoundKey | null, requestUrl: string): string | null {
  if (key === null || key.secret === '') return null;
  const origin = endpointOrigin(requestUrl);
  if (origin !== key.origin) {
    throw new HostedError({
      code: 'key_origin_mismatch',
      message: `The API key was entered for ${key.origin}, so it is not sent to ${origin}. Enter a key for ${origin}.`,
    });
  }
  return key.secret;
}

export function storageKeyFor(origin: string): string {
  return KEY_STORAGE_PREFIX + origin;
}

/** In-memory keys per origin, with opt-in persistence. */
export class KeyRing {
  private readonly memory = new Map<string, string>();

  constructor(private readonly storage: KeyStorage | null) {}

  /** Sets the key for the endpoint's origin; `remember` also stores it, otherwise any stored copy is removed. */
  set(endpointUrl: string, secret: string, options: { remember: boolean }): BoundKey {
    const bound = bindKey(endpointUrl, secret);
    this.memory.set(bound.origin, bound.secret);
    const storageKey = storageKeyFor(bound.origin);
    if (options.remember) this.safeSet(storageKey, bound.secret);
    else this.safeRemove(storageKey);
    return bound;
  }

  /** The key for the endpoint's origin (memory first, then storage), or null. */
  get(endpointUrl: string): BoundKey | null {
    const origin = endpointOrigin(endpointUrl);
    const secret = this.memory.get(origin) ?? this.safeGet(storageKeyFor(origin));
    return secret ? { origin, secret } : null;
  }

  /** Whether a key for this origin is stored (remembered across reloads). */
  isRemembered(endpointUrl: string): boolean {
    return this.safeGet(storageKeyFor(endpointOrigin(endpointUrl))) !== null;
  }

  forget(endpointUrl: string): void {
    const origin = endpointOrigin(endpointUrl);
    this.memory.delete(origin);
    this.safeRemove(storageKeyFor(origin));
  }

  private safeGet(k: string): string | null {
    try {
      return this.storage?.getItem(k) ?? null;
    } catch {
      return null; // storage disabled (private mode, blocked cookies)
    }
  }

  private safeSet(k: string, v: string): void {
    try {
      this.storage?.setItem(k, v);
    } catch {
      /* storage full or disabled: the key stays in memory only (isRemembered() says so) */
    }
  }

  private safeRemove(k: string): void {
    try {
      this.storage?.removeItem(k);
    } catch {
      /* storage disabled: nothing was stored */
    }
  }
}

/** In-memory KeyStorage (tests, or when localStorage is unavailable). */
export class MemoryKeyStorage implements KeyStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** The browser's localStorage when usable, else null (keys then stay in memory only). */
export function browserKeyStorage(): KeyStorage | null {
  return localStore();
}
