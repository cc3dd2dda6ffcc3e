/**
 * Everything that needs the `openai` SDK, in one module the hosted engine imports on first use.
 * Measured: the SDK and its error mapping are ~25 kB of gzipped JavaScript that a page with only
 * the in-browser model never needs (bench: initial_js_gzip_kb); the service worker precaches this
 * chunk, so loading it later works offline too.
 */
export { createClient } from './client';
export { toHostedError } from './sdk-errors';
export { arrivalOf } from './arrival';
