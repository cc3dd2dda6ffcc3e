/**
 * Bundle figures, read from a built dist/ (no browser):
 * initial_js_gzip_kb: the JavaScript the page's main thread loads before any model — the entry
 *   script of dist/index.html and every module it preloads — gzip-compressed (level 9), in kB.
 *   Worker code (ONNX Runtime, transformers.js) is not counted: the main thread never loads it.
 * precache_kb_gzip: what the service worker downloads on a first visit — every entry of the
 *   precache list scripts/vite-pwa.ts writes into dist/sw.js (shell, ORT's files, bundled suites) —
 *   gzip-compressed (level 9) and summed, in kB, without model files and ONNX Runtime's .wasm
 *   (those are tens of MB whatever the app does, and reported elsewhere).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const kb = (bytes) => Math.round((bytes / 1024) * 10) / 10;
const gzipBytes = (file) => gzipSync(readFileSync(file), { level: 9 }).byteLength;

export function initialJsGzipKb(dist = 'dist') {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = new Set();
  for (const m of html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)) refs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)) refs.add(m[1]);
  let bytes = 0;
  const files = [];
  for (const ref of refs) {
    const gz = gzipBytes(join(dist, ref.replace(/^\.?\//, '')));
    bytes += gz;
    files.push({ file: ref, gzip_bytes: gz });
  }
  return { initial_js_gzip_kb: kb(bytes), initial_js_files: files };
}

/** The JSON object that starts at `start` in `code` (strings with escapes respected). */
function jsonAt(code, start) {
  let depth = 0;
  let inString = false;
  for (let i = start; i < code.length; i++) {
    const c = code[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return JSON.parse(code.slice(start, i + 1));
  }
  throw new Error('unterminated JSON object');
}

/** The precache manifest (src/pwa/messages.ts PrecacheManifest) that the build wrote into sw.js. */
export function precacheManifest(dist = 'dist') {
  const code = readFileSync(join(dist, 'sw.js'), 'utf8');
  const start = code.indexOf('{"version":');
  if (start === -1) throw new Error(`${dist}/sw.js has no precache manifest (scripts/vite-pwa.ts writes it)`);
  return jsonAt(code, start);
}

export function precacheKbGzip(dist = 'dist') {
  const m = precacheManifest(dist);
  const entries = [...m.shell, ...m.ort, ...m.extra];
  const counted = entries.filter((f) => !f.endsWith('.wasm') && !/(^|\/)models\//.test(f));
  const files = counted.map((f) => {
    const path = f === './' ? 'index.html' : f.replace(/^\.?\//, '');
    return { file: f, gzip_bytes: gzipBytes(join(dist, path)) };
  });
  files.sort((a, b) => b.gzip_bytes - a.gzip_bytes);
  const bytes = files.reduce((s, f) => s + f.gzip_bytes, 0);
  return { precache_kb_gzip: kb(bytes), precache_files: files };
}

// `node scripts/bench/bundle.mjs [dist]` after `npx vite build`: both figures and the largest files.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = process.argv[2] ?? 'dist';
  const js = initialJsGzipKb(dist);
  const pc = precacheKbGzip(dist);
  console.log(JSON.stringify({ initial_js_gzip_kb: js.initial_js_gzip_kb, initial_js_files: js.initial_js_files, precache_kb_gzip: pc.precache_kb_gzip, precache_largest: pc.precache_files.slice(0, 12) }, null, 1));
}
