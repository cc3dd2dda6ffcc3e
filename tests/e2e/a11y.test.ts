// Over 300 lines: three long user flows sharing one browser and one reference server (model loads are the cost).
/**
 * Phone-first and accessible (built app, headless Chromium): axe-core finds nothing on any view
 * (empty page, each tab, an error, a finished comparison with the in-browser model and the
 * reference server as the hosted LLM, a suite report, a share banner) at desktop size and at
 * 390×844, light and dark; on a phone the conversation is the screen (prompt box and last answer
 * in view after loading the default model, nothing wider than the screen, no tap target under
 * 24 px, settings as a sheet that opens and closes, a shared link reaches an answer); and the
 * main flows work with the keyboard alone, with focus where a user expects it. Screenshots of the
 * main views go to test-results/screenshots/ for a person to look at.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReferenceServer, type TestServer } from '../server/helpers';
import { DESKTOP, PHONE, axe, focused, inViewport, screenshot, sidewaysOverflow, smallTargets, tabTo, type Finding, type Scheme } from './a11y-helpers';
import { launchBrowser, openPage } from './browser';
import { modelsDir } from './parity';
import { loadModelOk, sleepPerToken, tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const PROMPT = 'What is the capital of France?';
const TEST_TIMEOUT = 600_000;
/** The selected tab of the main tab bar (not of the Model tab's source tabs). */
const SELECTED_TAB = '[id^="settings-tab-"][aria-selected=true]';
const TINY_SUITE = 'id,category,prompt,expected,scorer\nq1,capitals,What is the capital of France?,Paris,contains\nq2,math,What is 2+3?,5,numeric\n';

let browser: Browser;
let server: TestServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startReferenceServer({ modelsDir: modelsDir(), model: 'slm-pocket', statsLimit: 50 });
});
afterEach(async () => {
  while (contexts.length) await contexts.pop()?.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(url: string, opts: { phone?: boolean } = {}): Promise<Page> {
  const { context, page } = await openPage(browser, 'about:blank');
  contexts.push(context);
  if (opts.phone) await page.setViewportSize(PHONE);
  else await page.setViewportSize(DESKTOP);
  await page.goto(url, { waitUntil: 'load' });
  await waitForProbe(page);
  return page;
}

const phoneNow = (page: Page) => page.evaluate(() => matchMedia('(max-width: 720px)').matches);

/** On a phone, the settings live in a sheet: open it (if closed) so a tab can be chosen. */
async function showTab(page: Page, tab: string): Promise<void> {
  if ((await phoneNow(page)) && (await page.locator('#settings-sheet').isHidden())) await page.click(tid('open-settings'));
  await page.click(tid(`tab-${tab}`));
}

async function closeSheet(page: Page): Promise<void> {
  if (!(await phoneNow(page))) return;
  // The sheet can be mid-change (a share link's load closes it): wait until it is either hidden or
  // its close button can be clicked (CI once saw the sheet visible and its button not, for 60 s).
  const sheet = page.locator('#settings-sheet');
  const close = page.locator(tid('close-settings'));
  await expect.poll(async () => (await sheet.isHidden()) || (await close.isVisible()), { timeout: 30_000 }).toBe(true);
  if (await close.isVisible()) await close.click();
}

/**
 * Runs axe (and takes a screenshot) at both sizes and in both colour schemes, putting the page
 * in the state `prepare` makes after each resize (the layout differs: tabs live in a sheet on a phone).
 */
async function everyWay(page: Page, view: string, findings: Finding[], prepare: (page: Page) => Promise<void> = async () => {}): Promise<void> {
  for (const [size, vp] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(vp);
    // The app's own layout, not just the media query: React applies the phone layout (the sheet
    // hidden) a render after matchMedia flips, and a tab clicked in between vanishes under the click.
    await page.waitForFunction((phone) => matchMedia('(max-width: 720px)').matches === phone && document.querySelector('.app')?.classList.contains('phone') === phone, size === 'phone');
    await prepare(page);
    for (const scheme of ['light', 'dark'] as Scheme[]) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      findings.push(...(await axe(page, `${view} @ ${size}/${scheme}`)));
      if (size === 'phone' && scheme === 'light') {
        // The page never scrolls sideways on a phone, and every tap target is at least 24 px.
        for (const o of await sidewaysOverflow(page)) findings.push({ view: `${view} @ phone`, rule: 'sideways-overflow', impact: 'layout', targets: [o], summary: '' });
        for (const t of await smallTargets(page)) findings.push({ view: `${view} @ phone`, rule: 'small-target', impact: 'layout', targets: [t], summary: '' });
      }
      await screenshot(page, `${size}-${scheme}-${view}`, size === 'phone');
    }
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
}

async function configureHosted(page: Page, baseUrl: string): Promise<void> {
  await showTab(page, 'hosted');
  await page.selectOption(tid('hosted-preset'), 'reference');
  await page.fill(tid('hosted-base-url'), baseUrl);
  await page.locator(tid('hosted-enabled')).setChecked(true);
  await page.click(tid('hosted-apply'));
  await page.waitForSelector(tid('pane-hosted'));
}

const lastAnswerOf = (pane: string) => `${tid(`pane-${pane}`)} ${tid('turn-assistant')}:last-of-type`;

async function waitIdle(page: Page, panes: string[], timeout = 180_000): Promise<void> {
  for (const p of panes) await page.waitForSelector(`${lastAnswerOf(p)}[data-streaming=false]`, { timeout });
  await page.waitForSelector(tid('send'), { timeout });
}

describe('accessibility and the phone layout', () => {
  it(
    'axe finds no violations on the empty page and each tab, at desktop size and 390×844, light and dark',
    async () => {
      const findings: Finding[] = [];
      const page = await open(appUrl);
      await everyWay(page, 'empty', findings, closeSheet);
      for (const tab of ['model', 'hosted', 'settings', 'suites', 'device', 'cache', 'share']) {
        await everyWay(page, `tab-${tab}`, findings, (p) => showTab(p, tab));
      }
      expect(findings, JSON.stringify(findings, null, 1)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'axe finds no violations on a load error, a finished comparison, a suite report and share banners, at both sizes, light and dark',
    async () => {
      const findings: Finding[] = [];
      const page = await open(appUrl);
      // An error: a model that cannot be fetched (every host but localhost is unreachable here).
      await showTab(page, 'model');
      await page.click(tid('source-hub'));
      await page.fill(tid('hub-id'), 'no-such-org/no-such-model');
      await page.click(tid('load'));
      await page.waitForSelector(tid('load-error'), { timeout: 120_000 });
      await everyWay(page, 'load-error', findings, (p) => showTab(p, 'model'));

      // A finished comparison: the in-browser pocket model and the reference server.
      await configureHosted(page, server.baseURL);
      await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
      await page.fill(tid('prompt'), PROMPT);
      await page.click(tid('send'));
      await waitIdle(page, ['local', 'hosted']);
      await page.waitForSelector(tid('comparison-strip'));
      await everyWay(page, 'comparison', findings, closeSheet);

      // A suite report (a two-case suite, both engines).
      await showTab(page, 'suites');
      await page.setInputFiles(tid('suite-import'), { name: 'tiny.csv', mimeType: 'text/csv', buffer: Buffer.from(TINY_SUITE) });
      await expect.poll(() => page.locator(tid('suite-description')).textContent()).toMatch(/^2 cases/);
      await page.click(tid('suite-run'));
      await page.waitForSelector(`${tid('suite-view')}[data-status=done]`, { timeout: 180_000 });
      await page.waitForSelector(tid('eval-report'));
      await everyWay(page, 'suite-report', findings, (p) => showTab(p, 'suites'));

      // A share banner (with results and the suite), and a damaged link's error banner.
      await showTab(page, 'share');
      await page.click(tid('share-make'));
      const link = await page.inputValue(tid('share-url'));
      await page.goto(link);
      await page.waitForSelector(tid('share-snapshot'));
      await waitForProbe(page);
      await everyWay(page, 'share-banner', findings, closeSheet);
      await page.goto(`${appUrl}#share=zAAAA`);
      await page.waitForSelector(tid('share-error'));
      await everyWay(page, 'share-error', findings, closeSheet);

      expect(findings, JSON.stringify(findings, null, 1)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'on a 390×844 phone the conversation is the screen: settings sheet, prompt and answer in view, no sideways scroll, no small targets; a shared link reaches an answer',
    async () => {
      const page = await open(appUrl, { phone: true });
      expect(await phoneNow(page)).toBe(true);
      // The chat first: the prompt box is in view, the settings are behind one button.
      expect((await inViewport(page, tid('prompt'))).inside).toBe(true);
      expect(await page.locator('#settings-sheet').isHidden()).toBe(true);
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await smallTargets(page)).toEqual([]);
      await screenshot(page, 'phone-flow-1-empty');

      // The sheet opens (focus on its selected tab), every tab fits, and it closes back to the chat.
      await page.click(tid('open-settings'));
      expect(await page.locator('#settings-sheet').isVisible()).toBe(true);
      expect(await page.locator(tid('prompt')).isHidden()).toBe(true);
      await expect.poll(async () => (await focused(page)).testid).toBe('tab-model');
      for (const tab of ['model', 'hosted', 'settings', 'suites', 'device', 'cache', 'share']) {
        await page.click(tid(`tab-${tab}`));
        expect(await sidewaysOverflow(page), tab).toEqual([]);
        expect(await smallTargets(page), tab).toEqual([]);
      }
      await page.click(tid('close-settings'));
      expect(await page.locator('#settings-sheet').isHidden()).toBe(true);
      await expect.poll(async () => (await focused(page)).testid).toBe('open-settings');
      await page.click(tid('open-settings'));
      await page.keyboard.press('Escape');
      expect(await page.locator('#settings-sheet').isHidden()).toBe(true);

      // The default model, as a new user loads it: Settings → Load model. The sheet closes when it is ready.
      await page.click(tid('open-settings'));
      await page.click(tid('tab-model'));
      await screenshot(page, 'phone-flow-2-sheet-model');
      await page.click(tid('load'));
      await page.waitForSelector(`${tid('load-status')}[data-ready=true]`, { state: 'attached', timeout: 180_000 });
      await page.waitForSelector(tid('prompt'), { state: 'visible' });
      expect(await page.locator('#settings-sheet').isHidden()).toBe(true);
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');
      await page.fill(tid('prompt'), PROMPT);
      await page.click(tid('send'));
      await waitIdle(page, ['local']);
      const answer = await inViewport(page, lastAnswerOf('local'));
      const prompt = await inViewport(page, tid('prompt'));
      expect(answer.inside, JSON.stringify(answer)).toBe(true);
      expect(prompt.inside, JSON.stringify(prompt)).toBe(true);
      expect(await page.evaluate(() => window.scrollY)).toBe(0);
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await smallTargets(page)).toEqual([]);
      await screenshot(page, 'phone-flow-3-answer');
      // After the load, its details and the model card are one line each (that opens them).
      await page.click(tid('open-settings'));
      expect(await page.locator(tid('load-status')).evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      expect(await page.locator(`${tid('model-card')} > details`).evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      await screenshot(page, 'phone-flow-4-sheet-after-load');
      await page.click(tid('tab-share'));
      await page.click(tid('share-make'));
      const link = await page.inputValue(tid('share-url'));
      expect(await smallTargets(page)).toEqual([]);

      // The link on another phone: the banner first, then "Run it on my device", then an answer.
      const viewer = await open(link, { phone: true });
      await viewer.waitForSelector(tid('share-banner'));
      expect((await inViewport(viewer, `${tid('share-banner')} h2`)).inside).toBe(true);
      expect(await sidewaysOverflow(viewer)).toEqual([]);
      expect(await smallTargets(viewer)).toEqual([]);
      await screenshot(viewer, 'phone-share-1-banner');
      await viewer.click(tid('share-run'));
      await viewer.waitForSelector(`${tid('load-status')}[data-ready=true]`, { state: 'attached', timeout: 180_000 });
      await viewer.waitForSelector(tid('prompt'), { state: 'visible' });
      expect(await viewer.inputValue(tid('prompt'))).toBe(PROMPT);
      expect((await inViewport(viewer, tid('prompt'))).inside).toBe(true);
      await viewer.click(tid('send'));
      await waitIdle(viewer, ['local']);
      expect(((await viewer.locator(lastAnswerOf('local')).locator(tid('turn-content')).textContent()) ?? '').length).toBeGreaterThan(0);
      expect((await inViewport(viewer, lastAnswerOf('local'))).inside).toBe(true);
      expect(await sidewaysOverflow(viewer)).toEqual([]);
      await screenshot(viewer, 'phone-share-2-answer');
      await screenshot(viewer, 'phone-share-3-full', true);
    },
    TEST_TIMEOUT,
  );

  it(
    'keyboard only: switch tabs, load, send, stop, new chat, run and reopen a suite, make and open a share link; focus goes where expected',
    async () => {
      const page = await open(appUrl);
      const kb = page.keyboard;
      // Tabs: one Tab stop for the tab list, arrows/Home/End move and select.
      await tabTo(page, `${tid('tab-model')}`);
      await kb.press('ArrowRight');
      expect((await focused(page)).testid).toBe('tab-hosted');
      expect(await page.getAttribute(tid('tab-hosted'), 'aria-selected')).toBe('true');
      expect(await page.getAttribute(tid('tab-hosted'), 'aria-controls')).toBe('settings-panel-hosted');
      expect(await page.locator('#settings-panel-hosted').getAttribute('aria-labelledby')).toBe('settings-tab-hosted');
      await kb.press('End');
      expect((await focused(page)).testid).toBe('tab-share');
      await kb.press('ArrowRight');
      expect((await focused(page)).testid).toBe('tab-model');
      await kb.press('ArrowLeft');
      expect((await focused(page)).testid).toBe('tab-share');
      await kb.press('Home');
      expect((await focused(page)).testid).toBe('tab-model');

      // Generation settings by keyboard: fixed length of 300 tokens, so there is time to stop an answer.
      await kb.press('ArrowRight');
      await kb.press('ArrowRight');
      expect((await focused(page)).testid).toBe('tab-settings');
      await tabTo(page, tid('gen-fixed-length'));
      await kb.press('Space');
      await tabTo(page, tid('gen-maxNewTokens'));
      await kb.press('Control+A');
      await kb.type('300');

      // Load: Model tab, Tab to Load, Enter; when ready, focus is in the prompt box.
      await tabTo(page, SELECTED_TAB, { back: true });
      await kb.press('Home');
      await tabTo(page, tid('source-bundled'));
      await tabTo(page, tid('load'));
      await kb.press('Enter');
      await page.waitForSelector(`${tid('load-status')}[data-ready=true]`, { timeout: 180_000 });
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');

      // Send with Enter: focus moves into the answer area; Esc stops; focus comes back to the prompt box.
      // 10 ms a token (a 3 s answer): at full speed the answer can end before Escape arrives.
      await sleepPerToken(page, 10);
      await kb.type(PROMPT);
      await kb.press('Enter');
      await expect.poll(async () => (await focused(page)).testid).toBe('answers');
      await page.waitForSelector(`${lastAnswerOf('local')}[data-streaming=true]`);
      await kb.press('Escape');
      await waitIdle(page, ['local']);
      expect(await page.getAttribute(lastAnswerOf('local'), 'data-finish')).toBe('abort');
      await sleepPerToken(page, 0);
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');
      // The answer was announced once it ended (a polite live region).
      expect(await page.getAttribute(tid('answer-announcement'), 'aria-live')).toBe('polite');
      expect(await page.textContent(tid('answer-announcement'))).toMatch(/^In your browser answered: ./);

      // A full answer (fixed length off again), and focus back in the prompt box after it.
      await tabTo(page, SELECTED_TAB, { back: true });
      await kb.press('ArrowRight');
      await kb.press('ArrowRight');
      expect((await focused(page)).testid).toBe('tab-settings');
      await tabTo(page, tid('gen-fixed-length'));
      await kb.press('Space');
      await tabTo(page, tid('prompt'));
      await kb.type(PROMPT);
      // A short answer can end (and focus return to the prompt) before a poll sees the answers
      // area focused: record every focus move in the page instead.
      await page.evaluate(() => {
        const w = window as unknown as { __focusLog: string[] };
        w.__focusLog = [];
        document.addEventListener('focusin', (e) => w.__focusLog.push((e.target as HTMLElement).getAttribute('data-testid') ?? ''));
      });
      await kb.press('Enter');
      await waitIdle(page, ['local']);
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');
      const moves = await page.evaluate(() => (window as unknown as { __focusLog: string[] }).__focusLog);
      expect(moves, 'focus went to the answers while they streamed, then back to the prompt').toContain('answers');
      expect(moves.lastIndexOf('prompt')).toBeGreaterThan(moves.indexOf('answers'));
      expect(await page.getAttribute(lastAnswerOf('local'), 'data-finish')).toBe('stop');

      // New chat.
      await tabTo(page, tid('new-chat'));
      await kb.press('Enter');
      expect(await page.locator(tid('turn-assistant')).count()).toBe(0);
      expect((await focused(page)).testid).toBe('prompt');

      // Make a share link (Share tab, Create link), open it, and run it on this device by keyboard.
      await tabTo(page, SELECTED_TAB, { back: true });
      await kb.press('End');
      await tabTo(page, tid('share-make'));
      await kb.press('Enter');
      await tabTo(page, tid('share-url'));
      const link = await page.inputValue(tid('share-url'));
      await page.goto(link);
      await waitForProbe(page);
      await page.waitForSelector(tid('share-banner'));
      await tabTo(page, tid('share-run'));
      await kb.press('Enter');
      await page.waitForSelector(`${tid('load-status')}[data-ready=true]`, { timeout: 180_000 });
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');
      expect(await page.inputValue(tid('prompt'))).toBe(PROMPT);
      await kb.press('Enter');
      await waitIdle(page, ['local']);
      await expect.poll(async () => (await focused(page)).testid).toBe('prompt');

      // Run a suite (a two-case suite; choosing the file is the system dialog's job), then reopen the run.
      await tabTo(page, SELECTED_TAB, { back: true });
      await kb.press('End');
      await kb.press('ArrowLeft');
      await kb.press('ArrowLeft');
      await kb.press('ArrowLeft');
      expect((await focused(page)).testid).toBe('tab-suites');
      await page.setInputFiles(tid('suite-import'), { name: 'tiny.csv', mimeType: 'text/csv', buffer: Buffer.from(TINY_SUITE) });
      await expect.poll(() => page.locator(tid('suite-description')).textContent()).toMatch(/^2 cases/);
      await tabTo(page, tid('suite-run'));
      await kb.press('Enter');
      await page.waitForSelector(`${tid('suite-view')}[data-status=done]`, { timeout: 180_000 });
      const runId = await page.getAttribute(tid('suite-view'), 'data-run');
      await tabTo(page, `${tid('suite-view')} button[aria-label="Close the report"]`);
      await kb.press('Enter');
      await expect.poll(() => page.getAttribute(tid('suite-view'), 'data-run')).toBeNull();
      await tabTo(page, tid('suite-run-open'), { back: true });
      await kb.press('Enter');
      await expect.poll(() => page.getAttribute(tid('suite-view'), 'data-run')).toBe(runId);

    },
    TEST_TIMEOUT,
  );
});
