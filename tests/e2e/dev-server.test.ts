/**
 * The Vite dev server (`npm run dev`): what developers open. React runs in development mode there
 * (StrictMode mounts effects twice), which the production build used by the other e2e tests
 * never does. The page must open clean: isolated, probed, and no error before the user acts.
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, openPage } from './browser';
import { ask, loadModelOk, tableRows, tid, waitForProbe } from './ui';

const ROOT = path.resolve(import.meta.dirname, '../..');
let server: ViteDevServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  server = await createServer({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  await server.listen();
  const u = server.resolvedUrls?.local[0];
  if (!u) throw new Error('the dev server did not report its URL');
  url = u;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('dev server: the page opens cross-origin isolated, probes the worker and shows no error', async () => {
  const { context, page, log } = await openPage(browser, url);
  try {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await waitForProbe(page)).toMatch(/cross-origin isolated/);
    // Let any late rejection of the probe render.
    await page.waitForTimeout(1000);
    const err = page.locator(tid('load-error'));
    expect(await err.count(), (await err.allTextContents()).join(' ')).toBe(0);
    expect(await page.textContent(tid('load-status'))).toMatch(/No model loaded/);
    expect(log.errors).toEqual([]);
  } finally {
    await context.close();
  }
});

it('dev server: the pocket model loads on the worker\'s KV loop with ONNX Runtime patched, and answers', async () => {
  const { context, page, log } = await openPage(browser, url);
  try {
    await waitForProbe(page);
    await loadModelOk(page);
    const rows = await tableRows(page, tid('load-metrics'));
    // The output-buffer patch is applied by the dev server's transform too, not only by the build.
    expect(rows['Decode loop']).toBe('worker KV loop, reused output buffers');
    const t = await ask(page, 'What is the capital of France?');
    expect(t.error).toBeNull();
    expect(t.content.trim().length).toBeGreaterThan(0);
    expect(log.errors).toEqual([]);
  } finally {
    await context.close();
  }
});
