/** What the page and the service worker say to each other (one typed union per direction). */

/** Written into the service worker at build time (scripts/vite-pwa.ts). URLs are relative to its scope. */
export interface PrecacheManifest {
  /** Changes with every build whose files change. */
  version: string;
  /** Hash of the embedded model files (public/models): names the model cache. */
  modelsVersion: string;
  /** Cached at install: the page cannot start without these. */
  shell: string[];
  /** ONNX Runtime's .wasm/.mjs files, cached when the page asks ('precache'). */
  ort: string[];
  /** Other files worth having offline (bundled suites), cached with the ORT files. */
  extra: string[];
}

export type SwRequest = { kind: 'precache' } | { kind: 'status' };

export type SwReply = {
  kind: 'status';
  version: string;
  /** Precache entries already in the cache, of `total`. */
  cached: number;
  total: number;
  /** Everything the app needs without a network is cached (models are cached when first loaded). */
  offlineReady: boolean;
  /** Files that could not be fetched by the last 'precache'. */
  failed: string[];
};
