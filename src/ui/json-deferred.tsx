/**
 * The JSON-output views, loaded when JSON output is first used (one chunk with the schema checker
 * and @cfworker/json-schema): the schema editor, the pretty-printed answer with its badges, the
 * strip's validity cell. A page that never asks for JSON never loads them (bench `initial_js_gzip_kb`).
 */
import { deferred } from './deferred';

const views = () => import('./json/json-views');
const NONE = null;

export const SchemaEditor = deferred(() => views().then((m) => m.SchemaEditor));
/** Until the view loads, the answer shows as the plain text it is. */
export const JsonAnswer = deferred(() => views().then((m) => m.JsonAnswer), (p: { text: string }) => p.text);
export const JsonBadges = deferred(() => views().then((m) => m.JsonBadges), NONE);
