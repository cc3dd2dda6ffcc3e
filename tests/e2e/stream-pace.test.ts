/**
 * How often streamed text is rendered (src/compare/render-pace.ts): every frame when the page has
 * cores to spare beside the in-browser engine, at most every STREAM_PACED_MS when the engine's
 * threads leave it none; in both cases the whole answer ends up shown, token for token the same.
 * The core count is the page's navigator.hardwareConcurrency, set here before the app starts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { STREAM_PACED_MS } from '../../src/compare/render-pace';
import { launchBrowser, openPage, type PageLog } from './browser';
import { ASSISTANT_TURNS, loadModelOk, sendPrompt, setGeneration, sleepPerToken, tid, waitForAnswer, waitForProbe } from './ui';

const appUrl = inject('appUrl');
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterEach(async () => {
  while (contexts.length) await contexts.pop()?.close();
});
afterAll(async () => {
  await browser?.close();
});

const TOKENS = 40;
/** Per token, in the worker: the answer lasts ~TOKENS × SLOW_MS however fast the machine. */
const SLOW_MS = 15;

/** The app on a page that reports `cores` cores, the pocket model loaded on 1 WASM thread. */
async function openWithCores(cores: number): Promise<{ page: Page; log: PageLog }> {
  const { context, page, log } = await openPage(browser, appUrl);
  contexts.push(context);
  await context.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n, configurable: true }), cores);
  await page.reload({ waitUntil: 'load' });
  await waitForProbe(page);
  expect(await page.evaluate(() => navigator.hardwareConcurrency)).toBe(cores);
  await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
  await page.click(tid('tab-settings'));
  const fixed = (await page.locator(tid('gen-fixed-length')).count()) > 0;
  await setGeneration(page, { greedy: true, maxNewTokens: TOKENS, ...(fixed ? { fixedLength: true } : {}) });
  return { page, log };
}

interface Render {
  t: number;
  text: string;
}

/** Every distinct text the streaming answer showed, with when (a MutationObserver sees each render). */
async function streamedRenders(page: Page): Promise<{ renders: Render[]; final: string }> {
  await page.evaluate((selector) => {
    const w = window as unknown as { __renders: Render[] };
    w.__renders = [];
    new MutationObserver(() => {
      const turns = document.querySelectorAll(selector);
      const last = turns[turns.length - 1];
      if (!last || last.getAttribute('data-streaming') !== 'true') return;
      const text = last.querySelector('[data-testid="turn-content"]')?.textContent ?? '';
      if (text && w.__renders.at(-1)?.text !== text) w.__renders.push({ t: performance.now(), text });
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, ASSISTANT_TURNS);
  await sleepPerToken(page, SLOW_MS);
  const index = await sendPrompt(page, 'Tell me about the sea.');
  const turn = await waitForAnswer(page, index);
  await sleepPerToken(page, 0);
  expect(turn.error).toBeNull();
  const renders = await page.evaluate(() => (window as unknown as { __renders: Render[] }).__renders);
  return { renders, final: turn.content };
}

describe('streamed text is rendered at a pace the machine can afford', () => {
  it('every frame with cores to spare; at most every STREAM_PACED_MS when the engine leaves none; the same full answer', async () => {
    const spare = await openWithCores(16);
    const free = await streamedRenders(spare.page);
    const busy = await openWithCores(2);
    const paced = await streamedRenders(busy.page);

    const detail = JSON.stringify({ free: free.renders.map((r) => Math.round(r.t)), paced: paced.renders.map((r) => Math.round(r.t)) });
    // Same greedy answer, all of it shown, each render extending the one before.
    expect(paced.final).toBe(free.final);
    for (const { renders, final } of [free, paced]) {
      for (let i = 1; i < renders.length; i++) expect(renders[i]!.text.startsWith(renders[i - 1]!.text), detail).toBe(true);
      expect(final.startsWith(renders.at(-1)?.text ?? '\u0000'), detail).toBe(true);
    }
    // Spare cores: about a render per token (each arrives in its own frame, SLOW_MS apart).
    expect(free.renders.length, detail).toBeGreaterThanOrEqual(TOKENS / 2);
    // No spare core: the answer lasts ≥ TOKENS × SLOW_MS, rendered at most once per interval
    // (the first text at once, then paced; a timer can fire a little early or late, hence the slack).
    const span = paced.renders.at(-1)!.t - paced.renders[0]!.t;
    expect(paced.renders.length, detail).toBeLessThanOrEqual(Math.ceil(span / STREAM_PACED_MS) + 2);
    expect(paced.renders.length, detail).toBeLessThan(free.renders.length / 2);
    for (let i = 1; i < paced.renders.length; i++) expect(paced.renders[i]!.t - paced.renders[i - 1]!.t, detail).toBeGreaterThanOrEqual(STREAM_PACED_MS * 0.8);
    expect(spare.log.errors.concat(busy.log.errors)).toEqual([]);
  });
});
