/**
 * JSON output in the built app, headless Chromium: a JSON Schema set on the Generation tab
 * constrains both panes — the pocket model in the browser and the reference server (the project's
 * server on 127.0.0.1, slm-reference weights) as the hosted LLM — and both answers are valid, match
 * the schema and carry their badges; a broken schema names its error and the app stays usable with
 * the draft kept; the bundled JSON suite, constrained, is 100% valid on both sides; a share link
 * carries the schema to another browser profile, keeping the draft it replaces there restorable.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReferenceServer, type TestServer } from '../server/helpers';
import { launchBrowser, openPage, type PageLog } from './browser';
import { modelsDir } from './parity';
import { loadModelOk, setGeneration, tid, waitForProbe } from './ui';

const appUrl = inject('appUrl');
const TEST_TIMEOUT = 420_000;
const PROMPT = 'Give a JSON object with name Emma and age 67.';
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

async function openApp(): Promise<{ page: Page; log: PageLog; posts: string[] }> {
  const o = await openPage(browser, appUrl);
  contexts.push(o.context);
  const posts: string[] = [];
  o.page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/chat/completions')) posts.push(r.postData() ?? '');
  });
  await waitForProbe(o.page);
  return { ...o, posts };
}

async function setup(page: Page): Promise<void> {
  await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
  await setGeneration(page, { greedy: true, maxNewTokens: 64 });
  await page.click(tid('tab-hosted'));
  await page.selectOption(tid('hosted-preset'), 'reference');
  await page.fill(tid('hosted-base-url'), server.baseURL);
  await page.fill(tid('hosted-model'), '');
  await page.locator(tid('hosted-enabled')).setChecked(true);
  await page.click(tid('hosted-apply'));
  await page.waitForSelector(tid('pane-hosted'));
}

/** Generation tab → JSON Schema → the "name and age" example, until the editor says it is valid. */
async function pickPersonSchema(page: Page): Promise<void> {
  await page.click(tid('tab-settings'));
  await page.click(tid('format-json_schema'));
  await page.click(tid('schema-example-person'));
  await page.waitForSelector(tid('schema-ok'));
}

interface JsonTurn {
  valid: string | null;
  matches: string | null;
  incomplete: string | null;
  badges: string;
  pretty: string;
}

async function lastJsonTurn(page: Page, pane: 'local' | 'hosted'): Promise<JsonTurn> {
  const turn = page.locator(`${tid(`pane-${pane}`)} ${tid('turn-assistant')}`).last();
  await turn.locator(tid('json-badges')).waitFor({ timeout: 120_000 });
  const b = turn.locator(tid('json-badges'));
  return {
    valid: await b.getAttribute('data-valid'),
    matches: await b.getAttribute('data-matches'),
    incomplete: await b.getAttribute('data-incomplete'),
    badges: ((await b.textContent()) ?? '').trim(),
    pretty: (await turn.locator(tid('json-pretty')).textContent()) ?? '',
  };
}

async function sendAndWait(page: Page, prompt: string): Promise<void> {
  const before = await page.locator(`${tid('pane-hosted')} ${tid('turn-assistant')}`).count();
  await page.fill(tid('prompt'), prompt);
  await page.click(tid('send'));
  for (const pane of ['local', 'hosted']) {
    const sel = `${tid(`pane-${pane}`)} ${tid('turn-assistant')}`;
    await page.waitForFunction(([s, i]) => document.querySelectorAll(s)[i]?.getAttribute('data-streaming') === 'false', [sel, before] as const, { timeout: 120_000 });
  }
  await page.waitForSelector(tid('send'), { timeout: 120_000 });
}

describe('JSON output on both sides', () => {
  let link: string | null = null;

  it('a JSON Schema set in the UI constrains both panes: both valid, matching, with badges; the strip shows it', async () => {
    const { page, log, posts } = await openApp();
    await setup(page);
    await pickPersonSchema(page);
    await sendAndWait(page, PROMPT);
    for (const pane of ['local', 'hosted'] as const) {
      const t = await lastJsonTurn(page, pane);
      expect(t, pane).toMatchObject({ valid: 'true', matches: 'true', incomplete: 'false' });
      expect(t.badges).toBe('valid JSONmatches schema');
      const value = JSON.parse(t.pretty) as { name: unknown; age: unknown };
      expect(typeof value.name).toBe('string');
      expect(Number.isInteger(value.age)).toBe(true);
      expect(t.pretty).toContain('\n  "name"'); // pretty-printed
    }
    // The request the server got carried the schema, strict.
    const body = JSON.parse(posts.at(-1) ?? '{}') as { response_format?: { type: string; json_schema?: { name: string; strict: boolean; schema: { required: string[] } } } };
    expect(body.response_format?.type).toBe('json_schema');
    expect(body.response_format?.json_schema).toMatchObject({ name: 'person', strict: true, schema: { required: ['name', 'age'] } });
    // The comparison strip: a JSON column with each pane's verdict.
    await page.waitForSelector(`${tid('comparison-strip')} ${tid('strip-json')} ${tid('json-badges')}`);
    const strip = await page.locator(`${tid('comparison-strip')} ${tid('strip-json')}`).allTextContents();
    expect(strip).toEqual(['valid JSONmatches schema', 'valid JSONmatches schema']);

    // The share link carries the schema (made here, opened in the last test).
    await page.click(tid('tab-share'));
    await page.click(tid('share-make'));
    link = await page.inputValue(tid('share-url'));
    expect(link).toMatch(/#share=z/);
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('an invalid schema shows its specific error, is not applied, the draft survives a reload, and the app stays usable', async () => {
    const { page, log, posts } = await openApp();
    await setup(page);
    await pickPersonSchema(page);
    const broken = '{\n  "type": "object",\n  "properties": { "age": { "type": "integer" }, }\n}';
    await page.fill(tid('schema-text'), broken);
    await page.waitForSelector(tid('schema-errors'));
    expect(await page.locator(tid('schema-errors')).textContent()).toMatch(/^Not valid JSON: .*\(line 3, column \d+\)/);
    expect(await page.getAttribute(tid('schema-text'), 'aria-invalid')).toBe('true');
    expect(await page.locator(tid('schema-not-applied')).textContent()).toMatch(/the schema "person" shown when it was last valid/);
    await page.fill(tid('schema-text'), '{ "type": "object", "properties": { "a": { "type": "string", "not": { "const": "x" } } } }');
    await page.waitForFunction((sel) => /"not" at #\/properties\/a\/not is not supported/.test(document.querySelector(sel)?.textContent ?? ''), tid('schema-errors'));
    await page.fill(tid('schema-text'), '{ "type": "object", "properties": { "age": { "type": "integr" } } }');
    await page.waitForFunction((sel) => /"type" at #\/properties\/age\/type must be a JSON type, not "integr"/.test(document.querySelector(sel)?.textContent ?? ''), tid('schema-errors'));
    // Kept as typed, across a reload.
    await page.reload();
    await waitForProbe(page);
    await page.click(tid('tab-settings'));
    await page.waitForSelector(tid('schema-text'));
    expect(await page.inputValue(tid('schema-text'))).toBe('{ "type": "object", "properties": { "age": { "type": "integr" } } }');
    expect(await page.isChecked(tid('format-json_schema'))).toBe(true);
    // Still usable: back to text, and a prompt is answered on both sides, with no response_format sent.
    await page.click(tid('format-text'));
    await loadModelOk(page, { source: { type: 'bundled', modelId: 'slm-pocket' }, device: 'wasm', threads: 1, warmup: false });
    await page.waitForSelector(tid('pane-hosted'));
    await sendAndWait(page, 'What is 12 + 30?');
    const local = (await page.locator(`${tid('pane-local')} ${tid('turn-assistant')}`).last().locator(tid('turn-content')).textContent()) ?? '';
    expect(local.trim().length).toBeGreaterThan(0);
    expect(await page.locator(tid('json-badges')).count()).toBe(0);
    expect(JSON.parse(posts.at(-1) ?? '{}')).not.toHaveProperty('response_format');
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('the bundled JSON suite, run constrained and free side by side: 100% valid and matching on both sides with the constraint', async () => {
    const { page, log } = await openApp();
    await setup(page);
    await setGeneration(page, { greedy: true, maxNewTokens: 48 });
    await page.click(tid('tab-suites'));
    await page.selectOption(tid('suite-select'), 'b:slm-json-20.json');
    await page.selectOption(tid('suite-constraint'), 'both');
    await page.click(tid('suite-run'));
    await page.waitForSelector(`${tid('suite-view')}[data-status="done"], ${tid('suite-view')}[data-status="stopped"]`, { timeout: 400_000 });
    expect(await page.getAttribute(tid('suite-view'), 'data-status')).toBe('done');
    await page.waitForSelector(tid('report-structure'));
    const rows = await page.$$eval('[data-testid="report-structure-row"]', (els) =>
      els.map((r) => ({ engine: r.getAttribute('data-engine'), cases: Number(r.getAttribute('data-cases')), valid: Number(r.getAttribute('data-valid')), matches: Number(r.getAttribute('data-matches')), field: r.querySelector('[data-testid="report-field-accuracy"]')?.textContent })),
    );
    expect(rows.map((r) => r.engine)).toEqual(['local', 'local+schema', 'hosted', 'hosted+schema']);
    for (const r of rows.filter((x) => x.engine?.endsWith('+schema'))) {
      expect(r, r.engine ?? '').toMatchObject({ cases: 20, valid: 20, matches: 20 });
      expect(r.field).toMatch(/^\d+%$/);
    }
    for (const r of rows.filter((x) => !x.engine?.endsWith('+schema'))) expect(r.cases).toBe(20);
    expect(log.errors).toEqual([]);
  }, 600_000);

  it('an endpoint that refuses response_format: the hosted answer comes as plain text and the pane and the strip say so', async () => {
    const { page, log, posts } = await openApp();
    await setup(page);
    await pickPersonSchema(page);
    // The endpoint refuses any response_format, as some OpenAI-compatible services do (the CORS
    // preflight still goes to the real server; this answers the POST itself).
    await page.route(`${server.baseURL}/chat/completions`, async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { response_format?: unknown };
      if (!body.response_format) return route.continue();
      await route.fulfill({
        status: 400,
        headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
        body: JSON.stringify({ error: { message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", type: 'invalid_request_error', param: 'response_format' } }),
      });
    });
    await sendAndWait(page, PROMPT);
    const refused = page.locator(`${tid('pane-hosted')} ${tid('turn-format-refused')}`);
    expect(await refused.textContent()).toBe('this endpoint does not support JSON Schema output; the answer was requested as plain text');
    expect(await page.locator(`${tid('pane-local')} ${tid('turn-format-refused')}`).count()).toBe(0);
    expect(posts.slice(-2).map((b) => 'response_format' in (JSON.parse(b) as object))).toEqual([true, false]);
    expect((await lastJsonTurn(page, 'local')).matches).toBe('true');
    await page.waitForSelector(`${tid('comparison-strip')} ${tid('strip-json')} ${tid('json-badges')}`);
    expect(await page.locator(`${tid('comparison-strip')} tr[data-pane="hosted"] ${tid('json-refused')}`).textContent()).toContain('this endpoint does not support JSON Schema output');
    expect(await page.locator(`${tid('comparison-strip')} tr[data-pane="local"] ${tid('json-refused')}`).count()).toBe(0);
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it("a share link round-trips the schema: applied in another profile, the Generation tab shows it active, and the viewer's own draft is kept and restorable", async () => {
    expect(link).not.toBeNull();
    const { page, log } = await openApp();
    // The viewer's own schema draft, typed before opening the link: in use as "mine".
    const mine = '{ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] }';
    await page.click(tid('tab-settings'));
    await page.click(tid('format-json_schema'));
    await page.fill(tid('schema-name'), 'mine');
    await page.fill(tid('schema-text'), mine);
    await page.waitForSelector(tid('schema-ok'));
    const storedFormat = () => page.evaluate(() => (JSON.parse(localStorage.getItem('slm.settings.v1') ?? 'null') as { generation: { responseFormat?: { type: string; name: string } } }).generation.responseFormat);
    await page.waitForFunction(() => /"name":"mine"/.test(localStorage.getItem('slm.settings.v1') ?? ''));
    await page.goto(link!);
    await page.waitForSelector(tid('share-banner'));
    expect(await page.locator(tid('share-format')).textContent()).toMatch(/JSON Schema “person”/);
    await page.click(tid('share-apply'));
    expect(await page.locator(tid('share-applied-schema')).textContent()).toMatch(/Restore my draft/);
    await page.click(tid('tab-settings'));
    await page.waitForSelector(tid('schema-ok'));
    expect(await page.isChecked(tid('format-json_schema'))).toBe(true);
    expect(JSON.parse(await page.inputValue(tid('schema-text')))).toMatchObject({ required: ['name', 'age'], additionalProperties: false });
    expect(await page.inputValue(tid('schema-name'))).toBe('person');
    expect(await storedFormat()).toMatchObject({ type: 'json_schema', name: 'person' });
    // The draft the link's schema replaced is kept, across a reload, and comes back on request.
    expect(await page.locator(tid('schema-kept-item')).allTextContents()).toEqual([expect.stringMatching(/^“mine”, 90 characters, kept /)]);
    await page.reload();
    await waitForProbe(page);
    await page.click(tid('tab-settings'));
    await page.click(tid('schema-restore-draft'));
    await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLTextAreaElement | null)?.value.includes('"city"') ?? false, tid('schema-text'));
    expect(await page.inputValue(tid('schema-text'))).toBe(mine);
    expect(await page.inputValue(tid('schema-name'))).toBe('mine');
    expect(await page.locator(tid('schema-kept')).count()).toBe(0);
    await page.waitForSelector(tid('schema-ok'));
    await page.waitForFunction(() => /"name":"mine"/.test(localStorage.getItem('slm.settings.v1') ?? ''));
    expect(await storedFormat()).toMatchObject({ type: 'json_schema', name: 'mine', schema: { required: ['city'] } });
    expect(log.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
