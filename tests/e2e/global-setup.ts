/**
 * e2e global setup: builds the app once (into a temporary folder, so a developer's dist/ is left
 * alone), serves it with `vite preview` (COOP/COEP headers, real 404s), and starts a local
 * "model host" laid out like the Hugging Face hub with a good copy of the pocket model and
 * broken variants. Tests get both URLs through vitest's `inject`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_PATH } from './browser';
import { startModelHost, type ModelHost } from './model-host';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the built app (ends with '/'). */
    appUrl: string;
    /** Base URL of the local hub-like model host (ends with '/'). */
    hostUrl: string;
    /** The built app's models folder: the model files the tests' browsers load (read expectations here). */
    modelsDir: string;
    /** The built app's folder (dist/), for tests that serve it themselves. */
    distDir: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The README's promise: what the e2e tests need from Debian (Chromium; PyTorch and onnx, with which
 * tools/slm exports the scale-model test's model) is installed with apt-get when missing and we are
 * root; otherwise the error says what to install.
 */
function ensureDebian(what: string, present: () => boolean, packages: string[], installable = true): void {
  if (present()) return;
  const cmd = `apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !installable || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`The e2e tests need ${what}. Install it: sudo ${cmd}`);
  }
  console.log(`[e2e] missing ${what}: ${cmd}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', ...packages]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status}); install it yourself: ${cmd}`);
  }
}

function ensureSystemPackages(): void {
  ensureDebian(`Chromium at ${CHROMIUM_PATH} (or set CHROMIUM_PATH)`, () => fs.existsSync(CHROMIUM_PATH), ['chromium'], CHROMIUM_PATH === '/usr/bin/chromium');
  ensureDebian(
    'PyTorch and onnx for /usr/bin/python3',
    () => spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0,
    ['python3-torch', 'python3-onnx', 'libopenblas0-pthread'],
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-e2e-dist-'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-e2e-host-'));
  let server: PreviewServer | null = null;
  let host: ModelHost | null = null;
  const teardown = async () => {
    await host?.close();
    await server?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    ensureSystemPackages();
    // vitest sets NODE_ENV=test, and Vite would then bundle React's development build (StrictMode
    // double effects, dev warnings). The e2e tests test what ships: a production build.
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    // The e2e build alone compiles in the model worker's test hooks (vite.config.ts `define`).
    process.env['SLM_TEST_HOOKS'] = '1';
    try {
      await build({ root: ROOT, configFile: path.join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    } finally {
      process.env['NODE_ENV'] = nodeEnv;
      delete process.env['SLM_TEST_HOOKS'];
    }
    server = await preview({
      root: ROOT,
      configFile: path.join(ROOT, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    const appUrl = server.resolvedUrls?.local[0];
    if (!appUrl) throw new Error('vite preview did not report its URL');
    // Everything is read from the build's copy of public/models, a snapshot: the embedded models
    // may be retrained and rewritten while the tests run.
    const modelsDir = path.join(outDir, 'models');
    host = await startModelHost(path.join(modelsDir, 'slm-pocket'), work);
    project.provide('modelsDir', modelsDir);
    project.provide('distDir', outDir);
    project.provide('appUrl', appUrl.endsWith('/') ? appUrl : `${appUrl}/`);
    project.provide('hostUrl', host.url);
    console.log(`[e2e] app ${appUrl}, model host ${host.url} (setup ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
