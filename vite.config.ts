import { defaultClientConditions, defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { ortAssets } from './scripts/vite-ort-assets.ts';
import { modelFiles } from './scripts/vite-model-files.ts';
import { ortOutputPool } from './scripts/vite-ort-output-pool.ts';
import { pwa } from './scripts/vite-pwa.ts';
import { initialChunks } from './scripts/vite-initial-chunks.ts';

/**
 * Cross-origin isolation (COOP + COEP) is what lets ONNX Runtime Web use SharedArrayBuffer,
 * and so more than one WASM thread, and lets the worker be interrupted through shared memory.
 * The same headers are set for `vite` (dev) and `vite preview`; a static host must set them too
 * (see README "Deploying").
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  base: './',
  // 'mpa': no SPA fallback, so a missing /models/... file is a real 404, not index.html with 200.
  appType: 'mpa',
  // Test-only hooks in the model worker (src/engines/local/worker/test-hooks.ts): only the e2e build
  // sets SLM_TEST_HOOKS=1; everywhere else the constant is false and the bundler drops them.
  define: { __SLM_TEST_HOOKS__: JSON.stringify(process.env['SLM_TEST_HOOKS'] === '1') },
  plugins: [react(), modelFiles(), ortAssets(process.cwd()), pwa(process.cwd()), ortOutputPool()],
  server: { headers: isolationHeaders, port: 5173 },
  preview: { headers: isolationHeaders, port: 5173 },
  // The "extern wasm" builds of ONNX Runtime Web don't embed `new URL('*.wasm', import.meta.url)`,
  // so the bundler doesn't copy 41 MB of .wasm a second time; the app serves them from ort/ instead.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  // Worker bundles get their own plugin list: the model worker is where ONNX Runtime runs.
  worker: { format: 'es', plugins: () => [ortOutputPool()] },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2500,
    // Every browser that runs the app (module workers, WASM threads) supports <link rel=modulepreload>.
    modulePreload: { polyfill: false },
    // harness.html: the worker with no UI, for browser parity tests and the benchmark baseline.
    rollupOptions: {
      input: { index: 'index.html', harness: 'harness.html' },
      output: { codeSplitting: initialChunks(process.cwd()) },
    },
  },
  optimizeDeps: { exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
});
