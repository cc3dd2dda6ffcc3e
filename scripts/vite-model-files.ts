/**
 * Model weights are served as they are on disk, never compressed on the fly (dev and preview).
 *
 * Found by the benchmark (docs/performance.md, "Model files on the preview server"): `vite preview`
 * gzips responses whose Content-Type it does not know, and `.onnx` has none there, so a 12.6 MB
 * model went out gzip-compressed and chunked, without a Content-Length. The progress bar lost its
 * total, the server spent CPU compressing weights that barely compress, and in a fresh Chromium
 * profile every few loads failed with net::ERR_CACHE_WRITE_FAILURE ("The network failed while
 * loading slm-reference"). Static hosts (GitHub Pages, Netlify) send these files uncompressed with
 * a length; this makes the local servers do the same.
 */
import type { Connect, Plugin } from 'vite';

export const MODEL_FILE = /\.(onnx|onnx_data)$/;

export function modelFileMiddleware(): Connect.NextHandleFunction {
  return (req, res, next) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (MODEL_FILE.test(path)) {
      // Without an Accept-Encoding the compression middleware leaves the response alone.
      delete req.headers['accept-encoding'];
      res.setHeader('Content-Type', 'application/octet-stream');
    }
    next();
  };
}

export function modelFiles(): Plugin {
  return {
    name: 'slm-model-files',
    configureServer(server) {
      server.middlewares.use(modelFileMiddleware());
    },
    configurePreviewServer(server) {
      server.middlewares.use(modelFileMiddleware());
    },
  };
}
