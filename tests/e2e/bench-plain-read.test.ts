/**
 * The benchmark's plain read (scripts/bench/browser.mjs `plainRead`), the floor a warm load's read is
 * compared with (`read_over_plain`): from the HTTP cache, and from the app's own store (its records in
 * Cache Storage, the bytes in OPFS); and its plain download (`download_over_fetch`), from the host. Its page function once used a Node-side constant that does not
 * exist in the page, which stopped the bench's scale rows (2026-12-01); nothing else runs it in
 * `npm test`. Here it reads a model the app stored, and must hand over every byte of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { plainDownload, plainRead } from '../../scripts/bench/browser.mjs';
import { OPFS_DIR } from '../../src/models/opfs';
import { launchBrowser, openPage } from './browser';
import { MIRROR_MODELS, startModelHost, type ModelHost } from './model-host';
import { modelsDir } from './parity';

const appUrl = inject('appUrl');
let browser: Browser;
let host: ModelHost;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-plain-read-'));
  host = await startModelHost(path.join(modelsDir(), 'slm-pocket'), root);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('the bench plain read', () => {
  it('reads every byte of a stored model from the store (OPFS) and from the HTTP cache', async () => {
    const { context, page } = await openPage(browser, `${appUrl}harness.html`);
    try {
      await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
      const source = { type: 'mirror' as const, host: host.url, modelId: MIRROR_MODELS.good, revision: 'main' };
      await page.evaluate((s) => window.slmHarness.load({ source: s, dtype: 'fp32', device: 'wasm', threads: 1, warmup: null, useBrowserCache: true }), source);
      const size = fs.statSync(path.join(modelsDir(), 'slm-pocket/onnx/model.onnx')).size;
      const urls = [`${host.url}${MIRROR_MODELS.good}/resolve/main/onnx/model.onnx`];
      // The store keeps a new download's bytes in OPFS: the plain read must find them there.
      const opfs = await page.evaluate(async (name) => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
        let n = 0;
        for await (const _ of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) n++;
        return n;
      }, OPFS_DIR);
      expect(opfs).toBeGreaterThan(0);
      const stored = await plainRead(page, urls, true);
      expect(stored.bytes).toBe(size);
      expect(stored.ms).toBeGreaterThan(0);
      const http = await plainRead(page, urls, false);
      expect(http.bytes).toBe(size);
      // The cold load's floor (download_over_fetch): the same bytes from the host itself.
      const served = host.requests.length;
      const download = await plainDownload(page, urls);
      expect(download.bytes).toBe(size);
      expect(host.requests.length).toBe(served + 1);
    } finally {
      await context.close();
    }
  });

  it('downloads over a paced link no faster than its rate (download_over_fetch_link)', async () => {
    const { context, page } = await openPage(browser, `${appUrl}harness.html`);
    const urls = [`${host.url}${MIRROR_MODELS.good}/resolve/main/onnx/model.onnx`];
    const size = fs.statSync(path.join(modelsDir(), 'slm-pocket/onnx/model.onnx')).size;
    const rate = 4e6;
    try {
      await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
      const loopback = await plainDownload(page, urls);
      host.setRate(rate);
      const paced = await plainDownload(page, urls);
      expect(paced.bytes).toBe(size);
      // 3.6 MB at 4 MB/s: never under the link's time (loopback takes a few ms), and the average rate
      // held (a pacer that stalls, or drops its lateness, takes far longer).
      const linkMs = (size / rate) * 1000;
      expect(loopback.ms).toBeLessThan(linkMs / 2);
      expect(paced.ms).toBeGreaterThanOrEqual(linkMs * 0.95);
      expect(paced.ms).toBeLessThan(linkMs * 2);
      host.setRate(null);
      expect((await plainDownload(page, urls)).ms).toBeLessThan(linkMs / 2);
    } finally {
      host.setRate(null);
      await context.close();
    }
  });
});
