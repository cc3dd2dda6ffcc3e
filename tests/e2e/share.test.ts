/**
 * Share links end to end (built app, headless Chromium): a sharer runs the pocket model and makes
 * a link with results; a viewer in a fresh browser context opens it and sees the same setup and
 * the same numbers, nothing applied or sent until they choose; "Run it on my device" then puts
 * their numbers beside the sharer's, and their own setup comes back afterwards. Hostile and
 * damaged links are shown as text or refused, execute nothing and call nothing.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeShare } from '../../src/share/codec';
import type { ShareState } from '../../src/share/schema';
import { launchBrowser, openPage } from './browser';
import { ask, loadModelOk, tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const TEST_TIMEOUT = 240_000;
const PROMPT = 'What is the capital of France?';

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

async function open(url: string) {
  const o = await openPage(browser, url);
  contexts.push(o.context);
  return o;
}

describe('share links', () => {
  it('a link with results opens elsewhere with the same setup and numbers; "run it on my device" compares; the viewer\'s own setup comes back', async () => {
    // The sharer.
    const sharer = await open(appUrl);
    await waitForProbe(sharer.page);
    await loadModelOk(sharer.page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    const answer = await ask(sharer.page, PROMPT);
    expect(answer.error).toBeNull();
    await sharer.page.click(tid('tab-share'));
    expect(await sharer.page.isChecked(tid('share-with-results'))).toBe(true);
    await sharer.page.click(tid('share-make'));
    const link = await sharer.page.inputValue(tid('share-url'));
    expect(new URL(link).hash).toMatch(/^#share=z[A-Za-z0-9_-]+$/);
    expect(new URL(link).search).toBe('');

    // The viewer: a fresh context with a setup of their own.
    const viewer = await open(appUrl);
    await waitForProbe(viewer.page);
    await viewer.page.click(tid('tab-settings'));
    await viewer.page.fill(tid('system-prompt'), 'my own system prompt');
    const requests: string[] = [];
    viewer.context.on('request', (r) => requests.push(r.url()));
    await viewer.page.goto(link);
    await viewer.page.waitForSelector(tid('share-snapshot'));
    // The fragment is read, then removed from the address bar.
    expect(viewer.page.url()).not.toContain('#share');
    const banner = viewer.page.locator(tid('share-banner'));
    expect(await banner.locator(tid('share-local')).textContent()).toContain('slm-pocket');
    expect(await banner.locator(tid('share-prompt')).textContent()).toBe(PROMPT);
    expect(await banner.locator(tid('share-device')).textContent()).toMatch(/wasm · 1 thread · cross-origin isolated/);
    // The sharer's numbers, exactly as the sharer's page showed them.
    for (const k of ['TTFT', 'Prefill', 'Decode', 'Tokens in/out', 'Memory peak']) {
      expect(await banner.locator(tid(`share-local-${k}`)).textContent(), k).toBe(answer.metrics[k]);
    }
    // Measured memory travels with the snapshot: the answer's peak and the load's figures beside the file size.
    expect(answer.metrics['Memory peak']).toMatch(/^[\d.]+ MB$/);
    expect(await banner.locator(tid('share-load-memory')).textContent()).toMatch(/model worker WASM [\d.]+ MB · weights file [\d.]+ MB/);
    expect(await banner.locator(tid('share-local-output')).textContent()).toBe(answer.content);
    // Nothing applied yet: the viewer's system prompt and empty composer are untouched; no model file fetched.
    await viewer.page.click(tid('tab-settings'));
    expect(await viewer.page.inputValue(tid('system-prompt'))).toBe('my own system prompt');
    expect(await viewer.page.inputValue(tid('prompt'))).toBe('');
    expect(requests.filter((u) => u.includes('/models/slm-pocket/onnx/'))).toEqual([]);

    // Run it on my device: setup applied, model loaded, prompt ready; Send; numbers side by side.
    await viewer.page.click(tid('share-run'));
    await viewer.page.waitForSelector(`${tid('load-status')}[data-ready=true]`, { timeout: 120_000 });
    expect(await viewer.page.textContent(tid('load-status'))).toMatch(/slm-pocket ready on WASM · fp32 · 1 thread/);
    expect(await viewer.page.inputValue(tid('prompt'))).toBe(PROMPT);
    await viewer.page.click(tid('tab-settings'));
    expect(await viewer.page.inputValue(tid('system-prompt'))).toBe('');
    await viewer.page.click(tid('send'));
    await viewer.page.waitForSelector(tid('mine-local-TTFT'), { timeout: 120_000 });
    const mine = await viewer.page.textContent(tid('mine-local-Tokens in/out'));
    expect(mine).toMatch(/^\d+ \/ \d+$/);
    // Greedy on the same model: the same tokens as the sharer.
    expect(mine).toBe(answer.metrics['Tokens in/out']);

    // Back to the viewer's own setup.
    await viewer.page.click(tid('share-restore'));
    await viewer.page.click(tid('tab-settings'));
    expect(await viewer.page.inputValue(tid('system-prompt'))).toBe('my own system prompt');
    expect(viewer.log.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('a hostile link is shown as text: no script runs, no endpoint is called, nothing is applied', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const state: ShareState = {
      v: 5,
      local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: false },
      hosted: { presetId: 'custom', baseUrl: 'http://127.0.0.1:9/v1/"><script>window.__pwned=3</script>', model: evil },
      generation: { maxNewTokens: 8, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true },
      systemPrompt: evil,
      prompt: evil,
      snapshot: {
        takenAt: '2026-11-25T21:00:00.000Z',
        device: { userAgent: evil, hardwareConcurrency: 2, crossOriginIsolated: true, adapter: evil, backend: 'wasm', threads: 1 },
        prompt: evil,
        load: null,
        answers: [{ pane: 'local', label: evil, output: evil, finishReason: 'stop', error: null, metrics: null, bytesSent: 0 }],
      },
      suite: {
        kind: 'inline',
        suite: { format: 'slm-playground-suite', version: 1, id: 'evil', name: evil, description: evil, cases: [{ id: 'e', category: evil, messages: [{ role: 'user', content: evil }], expected: evil, scorer: { type: 'contains' } }] },
      },
      suiteSnapshot: {
        takenAt: '2026-11-25T21:00:00.000Z',
        device: { userAgent: evil, hardwareConcurrency: 2, crossOriginIsolated: true, adapter: evil, backend: 'wasm', threads: 1 },
        suiteId: 'evil',
        engines: [{ kind: 'local', label: evil, model: evil, passed: 1, scored: 1, errors: 0, e2eP50: 1, e2eP95: 1, ttftP50: 1, decodeTps: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, memoryPeakBytes: 1 }],
        cells: [[0, 0, 1, 1]],
      },
      session: {
        entries: [
          {
            prompt: evil,
            local: evil,
            hosted: `${evil} other`,
            localError: null,
            hostedError: null,
            localTtftMs: 1,
            hostedTtftMs: 2,
            localE2eMs: 3,
            hostedE2eMs: 4,
            hostedCostUsd: 0,
            verdict: { verdict: 'disagree', decidedBy: 'similarity', reason: evil, exact: false, normalized: false, json: null, numbers: null, tokenF1: 0.5, rougeL: 0.5, judge: null, judgeError: null },
          },
        ],
        loadMs: null,
      },
    };
    const { page, context, log } = await open(appUrl);
    await waitForProbe(page);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    const toEndpoint: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith('http://127.0.0.1:9/')) toEndpoint.push(r.url());
    });
    await page.goto(`${appUrl}#share=${await encodeShare(state)}`);
    await page.waitForSelector(tid('share-snapshot'));
    await page.locator(tid('share-local-output')).evaluate((el) => ((el.closest('details') as HTMLDetailsElement).open = true));
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toBe(0);
    // The strings are there, as text.
    expect(await page.textContent(tid('share-prompt'))).toBe(evil);
    expect(await page.textContent(tid('share-local-output'))).toBe(evil);
    expect(await page.textContent(tid('share-suite'))).toContain(evil);
    expect(await page.textContent(tid('share-suite-snapshot'))).toContain(evil);
    await page.locator(tid('share-session')).evaluate((el) => (el.querySelector('details') as HTMLDetailsElement).open = true);
    expect(await page.textContent(tid('share-session'))).toContain(evil);
    expect(await page.textContent(tid('share-session-tally'))).toBe('Local agreed with hosted on 0 of 1 prompts (0%, 95% interval 0–79%), answered first on 1, cost $0 against $0.');
    expect(await page.textContent(tid('share-hosted'))).toContain('This link names a hosted endpoint');
    expect(await page.evaluate(() => document.querySelectorAll('[data-testid="share-banner"] img, [data-testid="share-banner"] script').length)).toBe(0);
    // Nothing applied: the composer is empty; nothing was sent to the endpoint the link names.
    expect(await page.inputValue(tid('prompt'))).toBe('');
    expect(toEndpoint).toEqual([]);
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('a damaged link says so, applies nothing, and the app goes on working', async () => {
    const { page, log } = await open(appUrl);
    await waitForProbe(page);
    const good = await encodeShare({
      v: 5,
      local: { source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: 1, warmup: false },
      hosted: null,
      generation: { maxNewTokens: 8, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true },
      systemPrompt: 'shared system prompt',
      prompt: PROMPT,
      snapshot: null,
      suite: null,
      suiteSnapshot: null,
      session: null,
    });
    // Cut short, as a chat app might.
    await page.goto(`${appUrl}#share=${good.slice(0, Math.floor(good.length * 0.6))}`);
    const err = await page.waitForSelector(tid('share-error'));
    expect(await err.textContent()).toMatch(/damaged/);
    await page.click(tid('share-dismiss'));
    await page.click(tid('tab-settings'));
    expect(await page.inputValue(tid('system-prompt'))).toBe('');
    // Still a working app.
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    expect((await ask(page, PROMPT)).error).toBeNull();
    // A second, valid link pasted into the same tab opens (hashchange).
    await page.evaluate((p) => (location.hash = `share=${p}`), good);
    await page.waitForSelector(tid('share-setup'));
    expect(await page.textContent(tid('share-prompt'))).toBe(PROMPT);
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
