/**
 * initial_js_gzip_kb: the JavaScript the page's main thread loads before any model — the entry
 * script of dist/index.html and every module it preloads — gzip-compressed (level 9), in kB.
 * Worker code (ONNX Runtime, transformers.js) is not counted: the main thread never loads it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function initialJsGzipKb(dist = 'dist') {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = new Set();
  for (const m of html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g)) refs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)) refs.add(m[1]);
  let bytes = 0;
  const files = [];
  for (const ref of refs) {
    const file = join(dist, ref.replace(/^\.?\//, ''));
    const gz = gzipSync(readFileSync(file), { level: 9 }).byteLength;
    bytes += gz;
    files.push({ file: ref, gzip_bytes: gz });
  }
  return { initial_js_gzip_kb: Math.round((bytes / 1024) * 10) / 10, initial_js_files: files };
}
