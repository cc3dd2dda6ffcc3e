/**
 * A stranger's suite with a catastrophic regex (exponential backtracking on any output of ~20+
 * characters) among normal cases, run in the built app in headless Chromium: the case is scored in
 * the sandbox worker, fails with "pattern took too long", the run goes on, and the page answers
 * throughout (without the sandbox this match would block the page for many seconds).
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_SANDBOX_LIMIT_MS } from '../../src/eval/sandbox/protocol';
import { launchBrowser, openPage } from './browser';
import { loadModelOk, setGeneration, tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
});

/** Each extra output character doubles the work: 20 characters take ~1 s in Node, 28 take minutes. */
const CATASTROPHIC = '^(?:(?:[\\s\\S]+)+)+\\u0001$';
const JSON_PROMPT = 'Give a JSON object with name Henry and age 22.';
const SUITE = [
  { id: 'first', prompt: JSON_PROMPT, scorer: 'regex', pattern: 'name' },
  { id: 'evil', prompt: JSON_PROMPT, scorer: 'regex', pattern: CATASTROPHIC },
  { id: 'after', prompt: 'Compute 67+10.', scorer: 'regex', pattern: '\\d' },
]
  .map((c) => JSON.stringify(c))
  .join('\n');

describe('regex scorers cannot hang the page', () => {
  it('a catastrophic pattern fails its case with "took too long"; the run goes on and the page stays responsive', async () => {
    const { page, context, log } = await openPage(browser, appUrl);
    contexts.push(context);
    await waitForProbe(page);
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    await setGeneration(page, { greedy: true, maxNewTokens: 24 });
    await page.click(tid('tab-suites'));
    await page.setInputFiles(tid('suite-import'), { name: 'hostile.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(SUITE) });
    await expect.poll(() => page.locator(tid('suite-description')).textContent()).toMatch(/^3 cases/);

    // Instruments the page (observation only): when the catastrophic request is posted to the
    // scoring worker and when that worker is terminated, and every tick of a 50 ms timer, so the
    // main thread's responsiveness can be read for exactly the time the pattern was running.
    await page.evaluate((pattern) => {
      const w = window as unknown as { __probe: { posted: number | null; terminated: number | null; ticks: number[] } };
      const probe = (w.__probe = { posted: null as number | null, terminated: null as number | null, ticks: [] as number[] });
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, m: unknown, ...rest: unknown[]) {
        if (typeof m === 'object' && m !== null && (m as { pattern?: unknown }).pattern === pattern) probe.posted = performance.now();
        return (post as (...a: unknown[]) => void).call(this, m, ...rest);
      };
      const terminate = Worker.prototype.terminate;
      Worker.prototype.terminate = function (this: Worker) {
        if (probe.posted !== null && probe.terminated === null) probe.terminated = performance.now();
        return terminate.call(this);
      };
      setInterval(() => probe.ticks.push(performance.now()), 50);
    }, CATASTROPHIC);
    await page.click(tid('suite-run'));
    // The run goes on in the background while another tab is shown; that keeps the results
    // matrix and charts (whose re-rendering costs seconds on a busy machine, with or without this
    // test's pattern) out of the measurement.
    await page.click(tid('tab-model'));
    // Round trips to the page while the pattern runs in the worker must come back quickly (on the
    // main thread, this match would block the page for minutes).
    const during: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const t = performance.now();
      const s = await page.evaluate(() => {
        const p = (window as unknown as { __probe: { posted: number | null; terminated: number | null } }).__probe;
        return { posted: p.posted !== null, terminated: p.terminated !== null };
      });
      if (s.posted && !s.terminated) during.push(performance.now() - t);
      if (s.terminated) break;
      if (performance.now() - t0 > 180_000) throw new Error('the catastrophic case was not scored within 3 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    await page.click(tid('tab-suites'));
    await page.waitForSelector(`${tid('suite-view')}[data-status="done"], ${tid('suite-view')}[data-status="stopped"]`, { timeout: 180_000 });
    const probe = await page.evaluate(() => (window as unknown as { __probe: { posted: number | null; terminated: number | null; ticks: number[] } }).__probe);
    expect(probe.posted, 'the catastrophic case was never sent to the scoring worker').not.toBeNull();
    expect(probe.terminated, 'the scoring worker was not terminated').not.toBeNull();
    const windowMs = probe.terminated! - probe.posted!;
    const ticks = probe.ticks.filter((x) => x >= probe.posted! && x <= probe.terminated!);
    const gaps = [probe.posted!, ...ticks, probe.terminated!].slice(1).map((x, i) => x - ([probe.posted!, ...ticks][i] ?? x));
    const maxGap = Math.max(...gaps);
    console.log(`[regex-sandbox] pattern ran ${Math.round(windowMs)} ms in the worker; ${during.length} round trips meanwhile, slowest ${Math.round(Math.max(0, ...during))} ms; ${ticks.length} timer ticks, longest gap ${Math.round(maxGap)} ms`);
    // The limit is measured on the page's clock; a busy machine may stretch it a little. A timer may also fire a
    // few microseconds before performance.now() says the limit has passed (a fresh-clone CI run read 999.97 ms for
    // the 1,000 ms limit): 1 ms of clock allowance, far below anything a wrong limit would give.
    expect(windowMs).toBeGreaterThanOrEqual(DEFAULT_SANDBOX_LIMIT_MS - 1);
    expect(windowMs).toBeLessThan(DEFAULT_SANDBOX_LIMIT_MS + 2_000);
    expect(during.length).toBeGreaterThan(0);
    expect(Math.max(...during)).toBeLessThan(1_000);
    expect(maxGap).toBeLessThan(1_000);
    expect(await page.getAttribute(tid('suite-view'), 'data-status')).toBe('done');

    const cell = (id: string) => page.locator(`[data-testid="matrix-row"][data-case="${id}"] [data-testid="matrix-cell"]`);
    expect(await cell('evil').getAttribute('data-state')).toBe('fail');
    const output = (await cell('evil').locator(tid('cell-output')).textContent()) ?? '';
    expect(output.trim().length, `the catastrophic pattern needs a long output, got ${JSON.stringify(output)}`).toBeGreaterThanOrEqual(20);
    expect(await cell('evil').textContent()).toContain(`pattern took too long (over ${DEFAULT_SANDBOX_LIMIT_MS} ms)`);
    // The cases around it were scored normally (the one after it by a restarted worker).
    for (const id of ['first', 'after']) {
      expect(await cell(id).getAttribute('data-state')).toMatch(/^(pass|fail)$/);
      expect(await cell(id).textContent()).toMatch(/matches \/|no match for \//);
    }
    expect(log.errors).toEqual([]);
  });
});
