/**
 * Serves ONNX Runtime Web's own .wasm/.mjs files from the app's origin (dev, preview and build),
 * so nothing is ever fetched from a CDN. transformers.js is pointed at these URLs through
 * `env.backends.onnx.wasm.wasmPaths` (see src/engines/local/worker/ort-setup.ts).
 *
 * Files live under `ort/<onnxruntime-web version>/` so a new ORT version never meets a stale cache.
 */
import { readFileSync, statSync, createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Plugin, Connect } from 'vite';

/** The plain build (used for WASM-only sessions) and the asyncify build (needed by the WebGPU EP). */
export const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
] as const;

export function ortVersion(root: string): string {
  const pkg = JSON.parse(readFileSync(resolve(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function ortAssetsDir(version: string): string {
  return `ort/${version}/`;
}

export function ortAssets(root: string): Plugin {
  const version = ortVersion(root);
  const dir = resolve(root, 'node_modules/onnxruntime-web/dist');
  const prefix = ortAssetsDir(version);
  let base = '/';

  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
    if (!url.startsWith(`${base}ort/`)) return next();
    const rel = url.slice(base.length);
    const file = rel.startsWith(prefix) ? rel.slice(prefix.length) : '';
    if (!(ORT_FILES as readonly string[]).includes(file)) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`Not found: ${url} (this app serves ONNX Runtime ${version} files under ${base}${prefix})`);
      return;
    }
    const path = resolve(dir, file);
    res.statusCode = 200;
    res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    res.setHeader('Content-Length', String(statSync(path).size));
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    createReadStream(path).pipe(res);
  };

  return {
    name: 'slm-ort-assets',
    config() {
      return { define: { __ORT_ASSETS_DIR__: JSON.stringify(prefix) } };
    },
    configResolved(cfg) {
      // A relative base ('./', for deployment under any path) is served from '/' by dev and preview.
      const b = cfg.base.startsWith('.') ? '/' : cfg.base;
      base = b.endsWith('/') ? b : `${b}/`;
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      for (const file of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: `${prefix}${file}`, source: readFileSync(resolve(dir, file)) });
      }
    },
  };
}
