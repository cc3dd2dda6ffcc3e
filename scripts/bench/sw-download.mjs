/**
 * sw_download_over_fetch (issue 12, item 3 "load"): the time to download a model file through the
 * app's service worker (which streams it to the page while it stores a copy) ÷ a plain fetch of the
 * same bytes from the same host by a page no service worker controls. Paired and interleaved
 * (A B, B A, …) in one run; the median of the per-pair ratios. Target ≤ 1.2 (it was 2.2-2.3 while
 * the service worker stored the whole file before it answered).
 *
 * The file is 128 MiB of random bytes written under the served app's `models/` folder (where the
 * service worker caches) for the run and removed after.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { median } from '../../src/metrics/stats.ts';

const MB = 128;

/** Fetches `url` in `page` to the last byte; returns ms. `dropCopy`: first remove the service worker's copy. */
async function timedFetch(page, url, dropCopy) {
  return page.evaluate(
    async ({ url, dropCopy }) => {
      if (dropCopy) {
        for (const n of await caches.keys()) if (n.startsWith('slm-models-')) await (await caches.open(n)).delete(url);
      }
      const t0 = performance.now();
      const res = await fetch(url, { cache: 'no-store' });
      const reader = res.body.getReader();
      let n = 0;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        n += r.value.byteLength;
      }
      const ms = performance.now() - t0;
      if (dropCopy) {
        // Let the service worker finish storing before the next measurement starts.
        const deadline = performance.now() + 30_000;
        for (;;) {
          let stored = false;
          for (const name of await caches.keys()) if (name.startsWith('slm-models-') && (await (await caches.open(name)).match(url))) stored = true;
          if (stored || performance.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return { ms, bytes: n };
    },
    { url, dropCopy },
  );
}

export async function measureSwDownload({ browser, base, distDir = 'dist', pairs = 5, log }) {
  const dir = path.join(distDir, 'models', 'bench-sw-download');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'blob.bin');
  fs.writeFileSync(file, crypto.randomBytes(MB * 2 ** 20));
  const url = new URL('models/bench-sw-download/blob.bin', base).href;
  const sw = await browser.newContext();
  const plain = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const a = await sw.newPage();
    await a.goto(base);
    await a.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 60_000 });
    const b = await plain.newPage();
    await b.goto(base);
    if (await b.evaluate(() => navigator.serviceWorker?.controller ?? null)) throw new Error('the plain page is controlled by a service worker');
    const ratios = [];
    const swMs = [];
    const fetchMs = [];
    // One unmeasured round each: connection set-up, the service worker's first start.
    await timedFetch(a, url, true);
    await timedFetch(b, url, false);
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? ['sw', 'plain'] : ['plain', 'sw'];
      const t = {};
      for (const which of order) t[which] = which === 'sw' ? await timedFetch(a, url, true) : await timedFetch(b, url, false);
      if (t.sw.bytes !== t.plain.bytes || t.sw.bytes !== MB * 2 ** 20) throw new Error(`byte counts differ: ${t.sw.bytes} / ${t.plain.bytes}`);
      swMs.push(t.sw.ms);
      fetchMs.push(t.plain.ms);
      ratios.push(t.sw.ms / t.plain.ms);
    }
    const out = { sw_download_over_fetch: median(ratios), sw_download_ms: median(swMs), plain_fetch_ms: median(fetchMs), sw_download_mb: MB, sw_download_ratios: ratios };
    log?.(`service worker download: ${out.sw_download_ms.toFixed(0)} ms vs plain fetch ${out.plain_fetch_ms.toFixed(0)} ms for ${MB} MiB (ratio ${out.sw_download_over_fetch.toFixed(2)}; pairs ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
    return out;
  } finally {
    await sw.close();
    await plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// `node scripts/bench/sw-download.mjs [appUrl]`: this figure alone (builds nothing: serves dist/ with vite preview).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { preview } = await import('vite');
  const { launch } = await import('./browser.mjs');
  const server = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local?.[0];
  const browser = await launch();
  try {
    console.log(JSON.stringify(await measureSwDownload({ browser, base, log: console.error })));
  } finally {
    await browser.close();
    await new Promise((r) => server.httpServer.close(r));
  }
}
