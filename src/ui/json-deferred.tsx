/**
 * The JSON-output views, loaded on first use so the page's first JavaScript does not grow (bench
 * `initial_js_gzip_kb`): the output format picker (its own small chunk; the schema editor inside
 * it loads only when JSON Schema is picked), and the answer pretty-printed with its badges and the
 * strip's validity cell (one chunk with @cfworker/json-schema, loaded when a JSON answer shows).
 */
import { deferred } from './deferred';

const views = () => import('./json/json-views');

export const OutputFormat = deferred(() => import('./OutputFormat').then((m) => m.OutputFormat), null);
/** Until the view loads, the answer shows as the plain text it is. */
export const JsonAnswer = deferred(() => views().then((m) => m.JsonAnswer), (p: { text: string }) => p.text);
export const JsonBadges = deferred(() => views().then((m) => m.JsonBadges), null);
