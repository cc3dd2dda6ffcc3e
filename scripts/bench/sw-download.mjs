/**
 * sw_download_over_fetch (issue 12, item 3 "load"): the time to download a model file through the
 * app's service worker (a page it controls) ÷ a plain fetch of the same bytes from the same host by
 * a page no service worker controls. Paired and interleaved (A B, B A, …) in one run; the median of
 * the per-pair ratios. Target ≤ 1.2 (it was 2.2-2.3 while the service worker stored the whole file
 * before it answered; since 9876554 it leaves model files to the network and the model worker's
 * store keeps them, so this checks that it stays out of their way).
 *
 * The file is 128 MiB of random bytes written under the served app's `models/` folder for the run
 * and removed after.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { median } from '../../src/metrics/stats.ts';

const MB = 128;

/** Fetches `url` in `page` to the last byte, bypassing the HTTP cache; returns ms and bytes. */
async function timedFetch(page, url) {
  return page.evaluate(async (url) => {
    const t0 = performance.now();
    const res = await fetch(url, { cache: 'no-store' });
    const reader = res.body.getReader();
    let n = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      n += r.value.byteLength;
    }
    return { ms: performance.now() - t0, bytes: n };
  }, url);
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
    await timedFetch(a, url);
    await timedFetch(b, url);
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? ['sw', 'plain'] : ['plain', 'sw'];
      const t = {};
      for (const which of order) t[which] = await timedFetch(which === 'sw' ? a : b, url);
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
