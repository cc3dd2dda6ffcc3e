/**
 * Where a first visit's load goes in the app (threads Auto): the Load status's text over time, from the
 * Load click to ready, in a fresh persistent profile (one scale model through the tests' hub-like host).
 * Prints each distinct status line, as it shows, with the seconds since the click; then the thread
 * choice with its pairs. A page that crashes leaves its lines up to the crash.
 *   tsx scripts/bench/app-load-timeline.mjs --shape smollm2-135m --dtype q8 [--dist dist]
 */
import path from 'node:path';
import { preview } from 'vite';
import { freshContext, launch } from './browser.mjs';
import { cliOption as opt, serveScaleModel } from './scale-host.mjs';

const shape = opt('shape', 'smollm2-135m');
const dtype = opt('dtype', 'q8');
const s = await preview({ build: { outDir: path.resolve(opt('dist', 'dist')) }, preview: { port: 0, strictPort: false }, logLevel: 'warn' });
const base = s.resolvedUrls?.local?.[0] ?? `http://localhost:${s.httpServer.address().port}/`;
const { source, close } = await serveScaleModel(shape, [dtype]);
const browser = await launch();
const context = await freshContext(browser, true);
try {
  const settings = { selection: { source, dtype, device: 'wasm', threads: 'auto', warmup: true }, generation: { maxNewTokens: 64, minNewTokens: 64, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true }, systemPrompt: '' };
  await context.addInitScript((x) => {
    if (!localStorage.getItem('slm.settings.v1')) localStorage.setItem('slm.settings.v1', x);
  }, JSON.stringify(settings));
  const page = await context.newPage();
  // Each line as it shows, so that a page that crashes still leaves its timeline.
  let t0 = null;
  await page.exposeFunction('__timelineLine', (at, text) => console.log(`${t0 === null ? '(before)' : ((at - t0) / 1000).toFixed(1).padStart(6)} s  ${text}`));
  page.on('crash', () => console.log('the page crashed'));
  await page.goto(base);
  await page.waitForFunction(() => !document.querySelector('[data-testid=isolation-badge]')?.textContent?.includes('probing'), undefined, { polling: 50 });
  await page.evaluate(() => {
    const seen = new Set();
    const note = () => {
      const el = document.querySelector('[data-testid=load-status]');
      const t = (el?.textContent ?? '').replace(/\d+(\.\d+)?\s*(MB|%|s|ms)/g, '#').slice(0, 160);
      if (t && !seen.has(t)) {
        seen.add(t);
        window.__timelineLine(performance.now(), el.textContent.slice(0, 200));
      }
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  t0 = await page.evaluate(() => performance.now());
  await page.click('[data-testid=load]');
  await page.waitForSelector('[data-testid=load-status][data-ready=true], [data-testid=load-error]', { timeout: 600_000 });
  const t1 = await page.evaluate(() => performance.now());
  console.log(`ready after ${((t1 - t0) / 1000).toFixed(1)} s`);
  // The thread choice and its pairs, as the ready status says them.
  const status = await page.evaluate(() => document.querySelector('[data-testid=load-status]')?.textContent ?? '');
  console.log(/\d+ thread\(s\): measured[^)]*\)/.exec(status)?.[0] ?? '(no thread note)');
} finally {
  await context.close();
  await browser.close();
  await close();
  await new Promise((r) => s.httpServer.close(r));
}
