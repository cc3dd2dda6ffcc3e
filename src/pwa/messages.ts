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
  /**
   * Cached the first time the app fetches them, never downloaded ahead: what only an optional
   * path needs — the openai SDK (a hosted endpoint, which needs a network anyway) and ONNX
   * Runtime's WebGPU build (asyncify .mjs + a 27 MB .wasm; only a WebGPU load uses it).
   */
  onUse: string[];
}

export type SwRequest = { kind: 'precache' } | { kind: 'status' };

export type SwReply = {
  kind: 'status';
  version: string;
  /** Precache entries already in the cache, of `total`. */
  cached: number;
  total: number;
  /** Everything the app needs without a network is cached (models, the WebGPU runtime and the hosted client when first used). */
  offlineReady: boolean;
  /** Files that could not be fetched by the last 'precache'. */
  failed: string[];
};
