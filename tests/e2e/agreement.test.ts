/**
 * Agreement of the local answer with the hosted one, in the built app (headless Chromium): the
 * pocket model in the browser against the reference model on the project's server (different
 * weights, so some answers agree and some do not). A session of prompts yields a verdict per
 * exchange and a tally (checked against the pure module on the answers the page showed), with
 * the judge on; a hosted error gives no verdict; the tally survives a share link and a share
 * file. A prompt-only suite yields an agreement report, a "Different" filter, and survives
 * export → import.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReferenceServer, type TestServer } from '../server/helpers';
import { agreementOf, diffAnswers, measureAgreement } from '../../src/compare/agreement';
import { answerPair } from '../../scripts/bench/agreement';
import { suiteAgreement } from '../../src/eval/agreement';
import { parseRunRecord } from '../../src/eval/results';
import { buildResultsTable } from '../../src/eval/results-table';
import { launchBrowser, openPage, type PageLog } from './browser';
import { modelsDir } from './parity';
import { loadModelOk, readTurn, setGeneration, tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const distDir = inject('distDir');
let browser: Browser;
let server: TestServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startReferenceServer({ modelsDir: modelsDir(), model: 'slm-reference', queueLimit: 64, statsLimit: 200 });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await server?.close();
  await browser?.close();
});

async function openApp(): Promise<{ page: Page; log: PageLog }> {
  const o = await openPage(browser, appUrl);
  contexts.push(o.context);
  await waitForProbe(o.page);
  return o;
}

async function setHosted(page: Page, baseUrl: string): Promise<void> {
  await page.click(tid('tab-hosted'));
  await page.selectOption(tid('hosted-preset'), 'reference');
  await page.fill(tid('hosted-base-url'), baseUrl);
  await page.fill(tid('hosted-model'), '');
  await page.locator(tid('hosted-enabled')).setChecked(true);
  await page.click(tid('hosted-apply'));
  await page.waitForSelector(tid('pane-hosted'));
}

async function setup(page: Page): Promise<void> {
  await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
  await setGeneration(page, { greedy: true, maxNewTokens: 24 });
  await setHosted(page, server.baseURL);
}

const turn = (page: Page, pane: 'local' | 'hosted', i: number) => page.locator(`${tid(`pane-${pane}`)} ${tid('turn-assistant')}`).nth(i);

/** Sends a prompt, waits for both answers and for the verdict (measuring and judging done). */
async function exchange(page: Page, prompt: string, i: number) {
  await page.fill(tid('prompt'), prompt);
  await page.click(tid('send'));
  for (const p of ['local', 'hosted'] as const) {
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel)[n]?.getAttribute('data-streaming') === 'false', [`[data-testid="pane-${p}"] [data-testid="turn-assistant"]`, i] as const, { timeout: 120_000 });
  }
  await page.waitForSelector(tid('send'));
  await page.waitForFunction(() => !/^Measuring/.test(document.querySelector('[data-testid="agreement-verdict"]')?.textContent ?? 'Measuring'), undefined, { timeout: 120_000 });
  return { local: await readTurn(turn(page, 'local', i)), hosted: await readTurn(turn(page, 'hosted', i)), verdict: (await page.textContent(tid('agreement-verdict'))) ?? '' };
}

const PROMPTS = ['What is 373 + 582?', 'Which number is bigger: 654 or 333?', 'Return JSON with name Vera and age 79.'];

describe('agreement with the hosted answer', () => {
  let sessionTally = '';
  let sessionDecision = '';

  it('a session of prompts yields a verdict per exchange (the judge on), a tally, the decision and its Markdown; a hosted error gives no verdict', async () => {
    const { page, log } = await openApp();
    await setup(page);
    // The agreement section is there with the hosted pane; the judge is off until asked for.
    await page.locator(tid('agreement-judge-toggle')).setChecked(true);
    let agreed = 0;
    for (const [i, prompt] of PROMPTS.entries()) {
      const x = await exchange(page, prompt, i);
      expect(x.local.error).toBeNull();
      expect(x.hosted.error).toBeNull();
      // The page's verdict is the pure module's on the answers it showed (the judge decides only
      // where no deterministic measure did, so compare those cases by their measure).
      const expected = agreementOf({ reference: x.hosted.content, candidate: x.local.content });
      const decidedBy = await page.textContent(tid('agreement-decided-by'));
      if (decidedBy !== 'judge') {
        expect(decidedBy).toBe(expected.decidedBy);
        expect(x.verdict.startsWith(expected.verdict === 'agree' ? 'Agrees' : 'Differs')).toBe(true);
      }
      if (x.verdict.startsWith('Agrees')) agreed++;
      // The judge answered or failed, and the page says which; the measures still count.
      expect(await page.textContent(tid('agreement-judge'))).toMatch(/^(same|different|judge failed: .+)/);
      expect(await page.textContent(tid('agreement-rouge'))).toMatch(/^\d\.\d\d$|^—$/);
      // The word diff holds both answers' words.
      const diff = (await page.textContent(tid('agreement-diff'))) ?? '';
      for (const w of x.local.content.split(/\s+/).filter(Boolean)) expect(diff).toContain(w);
    }
    const tally = await page.textContent(tid('agreement-tally'));
    expect(tally).toMatch(new RegExp(`^Local agreed with hosted on ${agreed} of 3 prompts \\(\\d+%, 95% interval \\d+–\\d+%\\), answered first on \\d, cost \\$0 against `));
    const disagreements = await page.locator(`${tid('agreement-disagreements')} li`).count();
    expect(disagreements).toBe(3 - agreed);

    // A hosted error: no verdict, said so; the tally counts it apart.
    await setHosted(page, 'http://127.0.0.1:9/v1');
    await page.fill(tid('prompt'), 'What is 8 * 30?');
    await page.click(tid('send'));
    await page.waitForFunction(() => /^no verdict: the hosted answer failed/.test(document.querySelector('[data-testid="agreement-verdict"]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    sessionTally = (await page.textContent(tid('agreement-tally'))) ?? '';
    expect(sessionTally).toMatch(/; 1 without a verdict \(an engine failed\)\.$/);
    sessionDecision = (await page.textContent(tid('agreement-decision'))) ?? '';
    expect(sessionDecision).toMatch(new RegExp(`^On this job the local model agrees with the hosted one on \\d+% \\[\\d+–\\d+%, ${agreed} of 3\\], answers .* at the median, costs \\$0 against .*, and `));
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(tid('agreement-markdown'))]);
    const md = fs.readFileSync(await dl.path(), 'utf8');
    expect(md).toContain(sessionDecision);
    expect(md).toContain(`## Disagreements (${3 - agreed})`);

    // The tally goes into a share link and a share file, and comes out the same.
    await page.click(tid('tab-share'));
    expect(await page.isChecked(tid('share-with-session'))).toBe(true);
    await page.click(tid('share-make'));
    const link = await page.inputValue(tid('share-url'));
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(tid('share-download'))]);
    const fileText = fs.readFileSync(await file.path(), 'utf8');
    expect(log.errors).toEqual([]);

    const viewer = await openApp();
    await viewer.page.goto(link);
    await viewer.page.waitForSelector(tid('share-session'));
    expect(await viewer.page.textContent(tid('share-session-tally'))).toBe(sessionTally);
    expect(await viewer.page.textContent(tid('share-session-decision'))).toBe(sessionDecision);

    const other = await openApp();
    await other.page.click(tid('tab-share'));
    await other.page.setInputFiles(tid('share-file'), { name: 'share.json', mimeType: 'application/json', buffer: Buffer.from(fileText) });
    await other.page.waitForSelector(tid('share-session'));
    expect(await other.page.textContent(tid('share-session-tally'))).toBe(sessionTally);
    expect(viewer.log.errors).toEqual([]);
    expect(other.log.errors).toEqual([]);
  });

  it('a prompt-only suite yields an agreement report per category, a Different filter, and survives export → import', async () => {
    const { page, log } = await openApp();
    await setup(page);
    await page.click(tid('tab-suites'));
    const csv = [
      'id,category,prompt',
      'a1,add,274 + 274 =',
      'a2,add,What is 664 plus 863?',
      'a3,add,What is 373 + 582?',
      'c1,compare,Which number is bigger: 654 or 333?',
      'c2,compare,What is the larger of 158 and 544?',
      'j1,json,Return JSON with name Vera and age 79.',
      'j2,json,"Make a JSON object: name Chloe, age 83."',
    ].join('\n');
    await page.setInputFiles(tid('suite-import'), { name: 'Prompts Only.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect.poll(() => page.locator(tid('suite-import-error')).count()).toBe(0);
    await page.selectOption(tid('suite-select'), 'i:prompts-only');
    await page.locator(tid('suite-engine-local')).setChecked(true);
    await page.locator(tid('suite-engine-hosted')).setChecked(true);
    await page.click(tid('suite-run'));
    await page.waitForSelector(`${tid('suite-view')}[data-status="done"]`, { timeout: 300_000 });

    // The run as exported; the pure module's view of it is what the page must show.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(tid('export-json'))]);
    const text = fs.readFileSync(await dl.path(), 'utf8');
    const record = parseRunRecord(JSON.parse(text));
    expect(record.cells).toHaveLength(14);
    const a = suiteAgreement(record, buildResultsTable(record))!;
    expect(a.judged).toBe(7);

    const total = (await page.textContent(tid('suite-agreement-total'))) ?? '';
    expect(total).toMatch(new RegExp(`^Agreed on ${a.agreed} of 7 cases`));
    expect(await page.textContent(tid('suite-agreement-decision'))).toBe(a.decision.sentence);
    const cats = await page.$$eval('[data-testid="suite-agreement-category"]', (rows) => rows.map((r) => [r.getAttribute('data-category'), r.querySelector('td')?.textContent]));
    expect(cats).toEqual(a.perCategory.map((c) => [c.category, `${c.agreed} / ${c.judged} (${Math.round((100 * c.agreed) / c.judged)}%)`]));
    // The local column is scored by agreement; the hosted column (the reference) is not.
    const states = await page.$$eval('[data-testid="matrix-row"]', (rows) => rows.map((r) => Array.from(r.querySelectorAll('[data-testid="matrix-cell"]')).map((c) => c.getAttribute('data-state'))));
    expect(states.map((s) => s[1])).toEqual(Array(7).fill('unscored'));
    expect(states.filter((s) => s[0] === 'pass')).toHaveLength(a.agreed);

    // "Different" shows only the cases where local disagrees; a disagreement opens with its diff.
    await page.locator(tid('matrix-filter-different')).check();
    const shown = await page.$$eval('[data-testid="matrix-row"]', (rows) => rows.map((r) => r.getAttribute('data-case')));
    expect(shown.sort()).toEqual([...a.different].sort());
    await page.locator(tid('matrix-filter-all')).check();
    expect(await page.locator(tid('matrix-row')).count()).toBe(7);
    if (a.disagreements.length > 0) {
      await page.locator(`${tid('suite-agreement-disagreements')} li button`).first().click();
      await page.waitForSelector(`${tid('suite-agreement')} ${tid('agreement-diff')}`);
    }

    // Export → import in another profile: the same agreement report.
    const other = await openApp();
    await other.page.click(tid('tab-suites'));
    await other.page.setInputFiles(tid('results-import'), { name: 'results.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    await other.page.waitForSelector(tid('suite-agreement'));
    expect(await other.page.textContent(tid('suite-agreement-total'))).toBe(total);
    expect(await other.page.textContent(tid('suite-agreement-decision'))).toBe(a.decision.sentence);
    expect(log.errors).toEqual([]);
    expect(other.log.errors).toEqual([]);
  });

  it('long answers are measured off the main thread: the built worker answers for two 2,000-word answers, as the pure module does', async () => {
    // The embedded models (512 positions) cannot write answers this long, so the built worker is
    // driven directly, in the app's page, with the bench's pair.
    const file = fs.readdirSync(path.join(distDir, 'assets')).find((f) => /^agreement\.worker-.*\.js$/.test(f));
    expect(file).toBeDefined();
    const { page, log } = await openApp();
    const [a, b] = answerPair();
    const reply = await page.evaluate(
      ([url, reference, candidate]) =>
        new Promise<{ kind: string; measures?: unknown; diff?: unknown; ms?: number; longestTaskMs: number }>((resolve) => {
          let longest = 0;
          new PerformanceObserver((l) => l.getEntries().forEach((e) => (longest = Math.max(longest, e.duration)))).observe({ type: 'longtask', buffered: false });
          const w = new Worker(url, { type: 'module' });
          w.onmessage = (ev) => setTimeout(() => resolve({ ...ev.data, longestTaskMs: longest }), 50);
          w.postMessage({ kind: 'measure', id: 1, reference, candidate });
        }),
      [`${appUrl}assets/${file}`, a, b] as const,
    );
    expect(reply.kind).toBe('measured');
    expect(reply.measures).toEqual(measureAgreement(a, b));
    expect(reply.diff).toEqual(diffAnswers(a, b));
    console.log(`[agreement] the worker measured two 2,000-word answers with their diff in ${reply.ms?.toFixed(1)} ms; longest main-thread task meanwhile ${reply.longestTaskMs.toFixed(0)} ms`);
    expect(log.errors).toEqual([]);
  });
});

