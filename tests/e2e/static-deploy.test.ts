/**
 * The built app as plain files on a host that sends no COOP/COEP headers, under a sub-path
 * (GitHub Pages style /user/repo/): it loads, becomes cross-origin isolated through its service
 * worker, runs ONNX Runtime with 2 WASM threads, and works again offline after one visit.
 */
import type { Browser, CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, openPage } from './browser';
import { ask, loadModelOk, tid } from './ui';
import { serveStatic, type StaticServer } from './static-server';

const distDir = inject('distDir');
let browser: Browser;
let server: StaticServer | null = null;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await server?.close();
  await browser?.close();
});

/** Every worker target in the page's tree (dedicated workers, and the workers they start). */
async function workerUrls(cdp: CDPSession): Promise<string[]> {
  const { targetInfos } = await cdp.send('Target.getTargets');
  return targetInfos.filter((t) => t.type === 'worker').map((t) => t.url);
}

describe('static deployment under a sub-path, no isolation headers', () => {
  it('becomes isolated through the service worker, runs 2 WASM threads, and works offline after one visit', async () => {
    server = await serveStatic(distDir, '/user/repo/');
    const { context, page, log } = await openPage(browser, server.url);
    const cdp = await context.newCDPSession(page);

    // The host sent no headers: isolation comes from the service worker (after one reload).
    const first = server.hits.find((h) => h === '/user/repo/');
    expect(first).toBeDefined();
    await page.waitForFunction(() => window.crossOriginIsolated, undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => [typeof SharedArrayBuffer, navigator.serviceWorker.controller?.scriptURL])).toEqual([
      'function',
      `${server.url}sw.js`,
    ]);
    await expect.poll(() => page.locator(tid('isolation-badge')).textContent(), { timeout: 30_000 }).toBe('cross-origin isolated');
    // Everything was fetched under the sub-path (relative base); nothing from the server root.
    expect(server.hits.filter((h) => !h.startsWith('/user/repo/'))).toEqual([]);

    // Installable: a web app manifest with a start URL, standalone display and PNG icons that load.
    const manifest = await page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>('link[rel="manifest"]')?.href;
      if (!href) return null;
      const m = (await (await fetch(href)).json()) as { start_url: string; display: string; icons: { src: string; sizes: string; type: string }[] };
      const icons = await Promise.all(m.icons.map(async (i) => ({ ...i, status: (await fetch(new URL(i.src, href))).status })));
      return { ...m, icons };
    });
    expect(manifest).toMatchObject({ start_url: './', display: 'standalone' });
    expect(manifest?.icons.filter((i) => i.type === 'image/png').map((i) => [i.sizes, i.status])).toEqual(
      expect.arrayContaining([
        ['192x192', 200],
        ['512x512', 200],
      ]),
    );

    // The app shell and ONNX Runtime are cached for offline use.
    await page.waitForSelector(`${tid('offline-badge')}[data-ready="true"]`, { timeout: 120_000 });

    // ONNX Runtime's files as the model worker fetches them: the .mjs from the service worker's
    // cache, the .wasm from the network (Chromium keeps its compiled code only for that answer:
    // service-worker.ts ORT_WASM), though the service worker precached it for offline use.
    const ortFetches: { file: string; fromSw: boolean }[] = [];
    context.on('response', (r) => {
      const file = /ort-wasm-simd-threaded\.(wasm|mjs)$/.exec(r.url())?.[0];
      if (file && !r.request().serviceWorker()) ortFetches.push({ file, fromSw: r.fromServiceWorker() });
    });
    // 2 threads asked for, and ONNX Runtime really started a second (pthread) worker for it.
    const loaded = await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 2, warmup: false });
    expect(ortFetches).toEqual(
      expect.arrayContaining([
        { file: 'ort-wasm-simd-threaded.wasm', fromSw: false },
        { file: 'ort-wasm-simd-threaded.mjs', fromSw: true },
      ]),
    );
    expect(ortFetches.filter((f) => f.file.endsWith('.wasm') && f.fromSw)).toEqual([]);
    expect(loaded.statusText).toMatch(/\b2 threads\b/);
    // A first download through the service worker is not a cache read (it was labelled "(cache)"), and the worker kept a copy.
    expect(loaded.metricsText).toMatch(/\((downloaded|partly from the cache)\)/);
    expect(loaded.metricsText).toMatch(/Stored in this browser/);
    // Nothing was stored before this first visit: the Load set ONNX Runtime up itself.
    expect(loaded.metricsText).not.toMatch(/set up before Load/);
    const workers = await workerUrls(cdp);
    // The model worker, and the one pthread worker ONNX Runtime starts (from a blob: URL) for its
    // second thread; single-threaded (not isolated, or 1 thread) it starts none.
    expect(workers.filter((u) => /model\.worker/.test(u))).toHaveLength(1);
    expect(workers.filter((u) => u.startsWith('blob:'))).toHaveLength(1);
    const online = await ask(page, 'What is the capital of France?');
    expect(online.content).toMatch(/Paris/);

    // Offline: the server is gone; the app, ONNX Runtime and the pocket model come from the caches.
    await server.close();
    server = null;
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => window.crossOriginIsolated, undefined, { timeout: 30_000 });
    // The header says so when the browser reports going offline (Chromium applies the emulated
    // state to a page loaded while it was already on only on the next change, so toggle it).
    await context.setOffline(false);
    await context.setOffline(true);
    await expect.poll(() => page.locator(tid('offline-badge')).getAttribute('data-online')).toBe('false');
    // A returning user's page: the selected model is stored, so the spare worker sets ONNX Runtime
    // up before the click (from the service worker's copy of the .wasm, offline) and the load says so.
    await page.waitForSelector(`${tid('load-status')}[data-runtime="prepared"]`, { timeout: 30_000 });
    const again = await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 2, warmup: false });
    expect(again.statusText).toMatch(/\b2 threads\b/);
    expect(again.metricsText).toMatch(/\(cache\)/);
    expect(again.metricsText).toMatch(/ONNX Runtime was set up before Load/);
    const offline = await ask(page, 'What is the capital of France?');
    expect(offline.content).toBe(online.content);
    // Unload, then Load again: the next worker is made and prepared after the unload, as at page open.
    await page.click(tid('unload'));
    await page.waitForSelector(`${tid('load-status')}[data-runtime="prepared"]`, { timeout: 30_000 });
    const third = await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 2, warmup: false });
    expect(third.metricsText).toMatch(/ONNX Runtime was set up before Load/);
    expect(log.errors).toEqual([]);
    await context.close();
  });
});

describe('static deployment on a host that sends the isolation headers (dist/_headers)', () => {
  it('is isolated on the first visit without a reload, and says it works offline on that visit', async () => {
    const host = await serveStatic(distDir, '/headers/', 0, { isolation: true });
    try {
      const { context, page, log } = await openPage(browser, host.url);
      expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
      // The badge comes from the service worker registered on this visit, which was still
      // installing when the app mounted (it showed nothing until the next visit before 2026-12-02).
      await page.waitForSelector(`${tid('offline-badge')}[data-ready="true"]`, { timeout: 60_000 });
      expect(await page.textContent(tid('offline-badge'))).toBe('works offline');
      // No reload was needed: this document is the first navigation's (the isolation reload would make it a 'reload').
      expect(await page.evaluate(() => [(performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).type, sessionStorage.getItem('slm.coi-reload')])).toEqual(['navigate', null]);
      expect(log.errors).toEqual([]);
      await context.close();
    } finally {
      await host.close();
    }
  });
});

describe('a page that is not cross-origin isolated (no headers, no service worker yet)', () => {
  it('Stop still interrupts a long answer promptly: the decode loop lets the interrupt message in', async () => {
    const plain = await serveStatic(distDir, '/plain/');
    try {
      // harness.html registers no service worker, so the page stays without shared memory.
      const { context, page, log } = await openPage(browser, `${plain.url}harness.html`);
      await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
      expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
      const info = await page.evaluate(() =>
        window.slmHarness.load({ source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: null }),
      );
      expect(info.crossOriginIsolated).toBe(false);
      expect(info.decodeLoop).toBe('kv-loop');
      const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
      const full = 480;
      // Stop after the second streamed message; without a way in for the message the loop would
      // decode all 480 tokens first.
      const r = await page.evaluate(([m, n]) => window.slmHarness.generateAndStop(m, 2, { greedy: true, maxNewTokens: n, minNewTokens: n }), [messages, full] as const);
      expect(r.finishReason).toBe('abort');
      expect(r.metrics.outputTokens).toBeGreaterThan(0);
      expect(r.metrics.outputTokens).toBeLessThan(full / 2);
      expect(log.errors).toEqual([]);
      await context.close();
    } finally {
      await plain.close();
    }
  });
});
