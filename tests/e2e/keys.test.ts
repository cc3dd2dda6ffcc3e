/**
 * The API key never leaks (built app, headless Chromium, the reference server on 127.0.0.1 with a
 * key required). A recognizable fake key is entered, wrong and right, remembered and not, and
 * after every step everything the page could leak it through is searched for it:
 *   - page.url() and the URL of every request the page (and its workers) made;
 *   - request headers: only requests to the endpoint's origin may carry Authorization / api-key,
 *     and only those may carry the key at all; no request body carries it;
 *   - localStorage, sessionStorage, IndexedDB database names, Cache Storage (names and URLs) and
 *     cookies: nothing, unless "Remember" is ticked, and then only `slm.hosted-key.v1:<origin>`;
 *   - the DOM (document.documentElement.outerHTML: attributes included, so the password input's
 *     `value` attribute too) and the visible text, including the 401 error the app shows;
 *   - console messages of the page and its workers, and the server's own log.
 *   - the Share tab's link (decompressed) and its share file.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startReferenceServer, type TestServer } from '../server/helpers';
import { launchBrowser } from './browser';
import { modelsDir } from './parity';
import { connectHosted, readTurn, tid, waitForProbe, type FinishedTurn } from './ui';

const appUrl = inject('appUrl');
/** Every key below contains MARK: any occurrence of MARK anywhere is (part of) a key. */
const MARK = 'LEAKCHECK';
const KEY = `sk-test-${MARK}-1234567890`;
const WRONG = `sk-test-${MARK}-0987654321-wrong`;
const PROMPT = 'What is the capital of France?';
const TEST_TIMEOUT = 300_000;

/** null when `text` holds no MARK, else the text around it (a readable failure instead of a whole page). */
function leakAt(text: string | null | undefined): string | null {
  const i = (text ?? '').indexOf(MARK);
  return i < 0 ? null : `…${text!.slice(Math.max(0, i - 120), i + 60)}…`;
}

let browser: Browser;
let server: TestServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startReferenceServer({ modelsDir: modelsDir(), model: 'slm-pocket', apiKey: KEY, statsLimit: 200 });
});
afterEach(async () => {
  while (contexts.length) await contexts.pop()?.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface SeenRequest {
  url: string;
  method: string;
  origin: string;
  postData: string;
  headers: Promise<Record<string, string>>;
}

interface Recorder {
  context: BrowserContext;
  page: Page;
  requests: SeenRequest[];
  console: string[];
  errors: string[];
}

/** A fresh context and page that records every request (with its final headers) and every console message. */
async function openRecorded(): Promise<Recorder> {
  const context = await browser.newContext();
  contexts.push(context);
  const rec: Recorder = { context, page: await context.newPage(), requests: [], console: [], errors: [] };
  context.on('request', (r) => {
    // allHeaders() has what went on the wire (Authorization included); a request that never got a
    // response falls back to the headers Chromium reported when it was issued.
    const headers = Promise.race([
      r.allHeaders(),
      new Promise<Record<string, string>>((resolve) => setTimeout(() => resolve(r.headers()), 5_000)),
    ]).catch(() => r.headers());
    rec.requests.push({ url: r.url(), method: r.method(), origin: new URL(r.url()).origin, postData: r.postData() ?? '', headers });
  });
  const onConsole = (where: string) => (m: ConsoleMessage) => rec.console.push(`[${where} ${m.type()}] ${m.text()} ${JSON.stringify(m.location())}`);
  rec.page.on('console', onConsole('page'));
  rec.page.on('worker', (w) => w.on('console', onConsole('worker')));
  rec.page.on('pageerror', (e) => rec.errors.push(`${e.name}: ${e.message}\n${e.stack ?? ''}`));
  rec.page.setDefaultTimeout(60_000);
  await rec.page.goto(appUrl, { waitUntil: 'load' });
  await waitForProbe(rec.page);
  return rec;
}

/** Types a key into the password field (and checks it is not in the DOM while typed), then applies it. */
async function enterKey(page: Page, secret: string, remember: boolean): Promise<string> {
  await page.click(tid('tab-hosted'));
  await page.locator(tid('hosted-remember')).setChecked(remember);
  await page.fill(tid('hosted-key'), secret);
  expect(await page.getAttribute(tid('hosted-key'), 'type')).toBe('password');
  expect(await page.inputValue(tid('hosted-key'))).toBe(secret);
  // The value lives in the input's property only: not in its `value` attribute, so not in the HTML.
  // (Soft: a failure here is reported, and the other checks of the case still run.)
  expect.soft(leakAt(await page.getAttribute(tid('hosted-key'), 'value')), 'the key is in the value attribute of the password input while typed').toBeNull();
  expect.soft(leakAt(await page.evaluate(() => document.documentElement.outerHTML)), 'the key is in the HTML while typed').toBeNull();
  await page.click(tid('hosted-set-key'));
  expect(await page.inputValue(tid('hosted-key'))).toBe('');
  const note = (await page.locator(`${tid('hosted-panel')} .key-box p.small:not(.muted)`).textContent()) ?? '';
  return note;
}

const HOSTED_TURNS = `${tid('pane-hosted')} ${tid('turn-assistant')}`;

/** Sends the prompt (the hosted pane alone: no local model is loaded) and returns the hosted answer. */
async function askHosted(page: Page): Promise<FinishedTurn> {
  const before = await page.locator(HOSTED_TURNS).count();
  await page.fill(tid('prompt'), PROMPT);
  await page.locator(tid('send')).click();
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [HOSTED_TURNS, before] as const);
  await page.waitForFunction(([sel, i]) => document.querySelectorAll(sel)[i]?.getAttribute('data-streaming') === 'false', [HOSTED_TURNS, before] as const, { timeout: 120_000 });
  await page.waitForSelector(tid('send'));
  // The local pane has no engine: it took no part.
  expect(await page.locator(`${tid('pane-local')} ${tid('turn-assistant')}`).count()).toBe(0);
  return readTurn(page.locator(HOSTED_TURNS).nth(before));
}

interface StorageDump {
  local: Record<string, string>;
  session: Record<string, string>;
  idb: string[];
  caches: string[];
  cookie: string;
}

async function dumpStorage(page: Page): Promise<StorageDump> {
  return page.evaluate(async () => {
    const all = (s: Storage) => {
      const out: Record<string, string> = {};
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i)!;
        out[k] = s.getItem(k) ?? '';
      }
      return out;
    };
    const idb = (await indexedDB.databases()).map((d) => `${d.name ?? ''}@${d.version ?? ''}`);
    const cacheEntries: string[] = [];
    for (const name of await caches.keys()) {
      cacheEntries.push(`cache:${name}`);
      for (const req of await (await caches.open(name)).keys()) cacheEntries.push(req.url);
    }
    return { local: all(localStorage), session: all(sessionStorage), idb, caches: cacheEntries, cookie: document.cookie };
  });
}

/**
 * Searches everything for MARK. `remembered`: the key that may sit in localStorage under
 * `slm.hosted-key.v1:<origin>` (the user ticked Remember), else none may be stored anywhere.
 * `endpoint`: the only origin requests may send a key to (as `authHeader`).
 */
async function expectNoLeak(rec: Recorder, stage: string, opts: { endpoint: string; authHeader: 'authorization' | 'api-key'; remembered: string | null }): Promise<void> {
  const { page } = rec;
  const where = (s: string) => `${stage}: ${s}`;
  expect(leakAt(page.url()), where('page URL')).toBeNull();

  // Requests: URLs and bodies never; headers only to the endpoint, in the expected header.
  expect(rec.requests.length).toBeGreaterThan(0);
  for (const r of rec.requests) {
    expect(leakAt(r.url), where(`request URL ${r.url}`)).toBeNull();
    expect(leakAt(r.postData), where(`body of ${r.method} ${r.url}`)).toBeNull();
    const headers = await r.headers;
    const names = Object.keys(headers).map((h) => h.toLowerCase());
    if (r.origin !== opts.endpoint) {
      expect(names, where(`${r.method} ${r.url} (not the endpoint) carries credentials`)).not.toContain('authorization');
      expect(names, where(`${r.method} ${r.url} (not the endpoint) carries credentials`)).not.toContain('api-key');
    }
    for (const [name, value] of Object.entries(headers)) {
      if (!value.includes(MARK)) continue;
      expect(r.origin, where(`header ${name} of ${r.method} ${r.url} carries the key`)).toBe(opts.endpoint);
      expect(name.toLowerCase(), where(`the key went in header ${name}`)).toBe(opts.authHeader);
      expect(opts.authHeader === 'authorization' ? [`Bearer ${KEY}`, `Bearer ${WRONG}`] : [KEY, WRONG], where(`header ${name}`)).toContain(value);
    }
  }

  // Storage: nothing, unless remembered, and then only under its origin's entry.
  const storage = await dumpStorage(page);
  const storageKey = `slm.hosted-key.v1:${opts.endpoint}`;
  const { [storageKey]: stored, ...otherLocal } = storage.local;
  expect(stored ?? null, where(`localStorage[${storageKey}]`)).toBe(opts.remembered);
  expect(leakAt(JSON.stringify(otherLocal)), where('localStorage')).toBeNull();
  expect(Object.keys(storage.local).filter((k) => k.startsWith('slm.hosted-key.v1:')), where('stored keys')).toEqual(opts.remembered ? [storageKey] : []);
  expect(leakAt(JSON.stringify(storage.session)), where('sessionStorage')).toBeNull();
  expect(leakAt(storage.idb.join('\n')), where('IndexedDB')).toBeNull();
  expect(leakAt(storage.caches.join('\n')), where('Cache Storage')).toBeNull();
  expect(leakAt(storage.cookie), where('document.cookie')).toBeNull();
  expect(leakAt(JSON.stringify(await rec.context.cookies())), where('cookies')).toBeNull();
  // The settings saved for the endpoint never hold the key.
  expect(leakAt(storage.local['slm.hosted.v1'] ?? ''), where('hosted settings')).toBeNull();

  // The page: HTML (with attribute values) and visible text, in every tab that shows hosted things.
  for (const tab of ['hosted', 'model', 'settings']) {
    await page.click(tid(`tab-${tab}`));
    expect(leakAt(await page.evaluate(() => document.documentElement.outerHTML)), where(`HTML (tab ${tab})`)).toBeNull();
    expect(leakAt(await page.evaluate(() => document.body.innerText)), where(`text (tab ${tab})`)).toBeNull();
    const values = await page.evaluate(() => Array.from(document.querySelectorAll('input, textarea')).map((e) => (e as HTMLInputElement).value));
    expect(leakAt(values.join('\n')), where(`input values (tab ${tab})`)).toBeNull();
  }
  // Share: the link (its fragment decompressed: a compressed key would not show as text) and the file.
  await page.click(tid('tab-share'));
  await page.click(tid('share-make'));
  await page.waitForSelector(tid('share-made'));
  const link = await page.inputValue(tid('share-url'));
  const shared = await page.evaluate(async (u) => {
    const b64 = new URL(u).hash.replace(/^#share=z/, '').replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'))).text();
  }, link);
  expect(String(JSON.parse(shared).hosted.baseUrl).startsWith(opts.endpoint), where('share link names the endpoint')).toBe(true);
  expect(leakAt(link + shared), where('share link')).toBeNull();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('share-download'))]);
  const file = await readFile(await download.path());
  expect(leakAt(file.toString('utf8')), where('share file')).toBeNull();
  expect(leakAt(await page.evaluate(() => document.documentElement.outerHTML)), where('HTML (tab share)')).toBeNull();
  await page.click(tid('tab-hosted'));
  expect(leakAt(await page.title())).toBeNull();

  // Logs: the page's and workers' console, the server's log.
  expect(leakAt(rec.console.join('\n')), where('console')).toBeNull();
  expect(leakAt(server.logs.join('\n')), where('server log')).toBeNull();
  expect(rec.errors, where('page errors')).toEqual([]);
}

/** Final headers of the requests sent to the endpoint so far (`path` under /v1, e.g. '/models'), oldest first. */
async function endpointHeaders(rec: Recorder, method: string, path: string): Promise<Record<string, string>[]> {
  const sent = rec.requests.filter((r) => r.method === method && (r.url === `${server.baseURL}${path}` || r.url.startsWith(`${server.baseURL}${path}?`)));
  return Promise.all(sent.map((r) => r.headers));
}
const chatRequestHeaders = (rec: Recorder) => endpointHeaders(rec, 'POST', '/chat/completions');
const listRequestHeaders = (rec: Recorder) => endpointHeaders(rec, 'GET', '/models');

describe('the API key never leaks', () => {
  it('Bearer key: only to the endpoint, in memory only, gone after a reload; with Remember only under its origin', async () => {
    const rec = await openRecorded();
    const { page } = rec;
    const endpoint = server.url;
    const check = (stage: string, remembered: string | null = null) => expectNoLeak(rec, stage, { endpoint, authHeader: 'authorization', remembered });
    await connectHosted(page, { presetId: 'reference', baseUrl: server.baseURL, model: '' });
    const destination = (await page.textContent(tid('key-destination'))) ?? '';
    expect(destination).toContain(endpoint);
    expect(destination).toMatch(/Authorization: Bearer/);
    expect(destination).toMatch(/forgotten when you close it/);

    // 1. A wrong key (kept in memory): the 401 is explained without quoting the key.
    expect(await enterKey(page, WRONG, false)).toMatch(/kept in memory/);
    expect(await page.getAttribute(tid('hosted-key'), 'placeholder')).toMatch(/\(set\)/);
    const denied = await askHosted(page);
    expect(denied.finish).toBe('error');
    expect(denied.error).toMatch(/rejected the API key \(401\)/);
    expect(leakAt(denied.error)).toBeNull();
    expect(await page.locator(tid('comparison-strip')).count()).toBe(0); // one pane: nothing to compare
    // Positive control: the wrong key did go to the endpoint, as a bearer token (so headers are seen).
    // The model field is blank, so the engine first asks GET /v1/models, which already fails.
    expect((await listRequestHeaders(rec)).map((h) => h['authorization'])).toEqual([`Bearer ${WRONG}`]);
    expect(await chatRequestHeaders(rec)).toEqual([]);
    await check('wrong key, 401 shown');

    // 2. The right key (memory only): the answer comes.
    expect(await enterKey(page, KEY, false)).toMatch(/kept in memory/);
    const ok = await askHosted(page);
    expect(ok.error, ok.error ?? '').toBeNull();
    expect(ok.finish).toBe('stop');
    expect(ok.content.length).toBeGreaterThan(0);
    expect((await listRequestHeaders(rec)).map((h) => h['authorization'])).toEqual([`Bearer ${WRONG}`, `Bearer ${KEY}`]);
    expect((await chatRequestHeaders(rec)).map((h) => h['authorization'])).toEqual([`Bearer ${KEY}`]);
    await check('right key, answered');

    // 3. Reload: the settings stay, the key (memory only) is gone: no key is sent, the server says 401.
    await page.reload({ waitUntil: 'load' });
    await waitForProbe(page);
    await page.click(tid('tab-hosted'));
    expect(await page.locator(tid('hosted-enabled')).isChecked()).toBe(true);
    expect(await page.inputValue(tid('hosted-base-url'))).toBe(server.baseURL);
    expect(await page.getAttribute(tid('hosted-key'), 'placeholder')).not.toMatch(/\(set\)/);
    await check('reloaded (not remembered)');
    const afterReload = await askHosted(page);
    expect(afterReload.finish).toBe('error');
    expect(afterReload.error).toMatch(/401/);
    // No key at all was sent (no Authorization header), not an empty or stale one.
    const h3 = await listRequestHeaders(rec);
    expect(h3.length).toBe(3);
    expect(h3.at(-1)!['authorization']).toBeUndefined();
    expect((await chatRequestHeaders(rec)).length).toBe(1);
    await check('reloaded, 401 without a key');

    // 4. Remember: stored under its origin's entry only, and used after a reload.
    expect(await enterKey(page, KEY, true)).toMatch(/saved in this browser/);
    expect(await page.textContent(tid('key-destination'))).toMatch(/remembered in this browser/);
    await check('remembered', KEY);
    await page.reload({ waitUntil: 'load' });
    await waitForProbe(page);
    await page.click(tid('tab-hosted'));
    expect(await page.getAttribute(tid('hosted-key'), 'placeholder')).toMatch(/\(set\)/);
    expect(await page.locator(tid('hosted-remember')).isChecked()).toBe(true);
    const remembered = await askHosted(page);
    expect(remembered.error, remembered.error ?? '').toBeNull();
    expect(remembered.finish).toBe('stop');
    await check('remembered, reloaded, answered', KEY);

    // 5. Forget: an empty key removes it from memory and storage.
    await page.click(tid('tab-hosted'));
    await page.fill(tid('hosted-key'), '');
    expect(await page.textContent(tid('hosted-set-key'))).toMatch(/Forget key/);
    await page.click(tid('hosted-set-key'));
    expect(await page.textContent(`${tid('hosted-panel')} .key-box`)).toMatch(/Key removed/);
    const forgotten = await askHosted(page);
    expect(forgotten.finish).toBe('error');
    expect(forgotten.error).toMatch(/401/);
    await check('forgotten');
  }, TEST_TIMEOUT);

  it('api-key header (Azure-style preset): the key goes only to the endpoint, in that header, never as a bearer token', async () => {
    const rec = await openRecorded();
    const { page } = rec;
    const endpoint = server.url;
    // Azure AI Foundry's preset sends the key as `api-key` (the reference server accepts both forms).
    await connectHosted(page, { presetId: 'azure-foundry', baseUrl: server.baseURL, model: server.model.id });
    expect(await page.textContent(tid('key-destination'))).toMatch(/an api-key header/);
    // This preset needs a key: without one the Hosted tab says so and nothing is sent.
    expect(await page.textContent(tid('hosted-error'))).toMatch(/needs an API key/);

    expect(await enterKey(page, WRONG, false)).toMatch(/kept in memory/);
    const denied = await askHosted(page);
    expect(denied.finish).toBe('error');
    expect(denied.error).toMatch(/rejected the API key \(401\)/);
    expect(leakAt(denied.error)).toBeNull();
    await expectNoLeak(rec, 'api-key, wrong key', { endpoint, authHeader: 'api-key', remembered: null });

    expect(await enterKey(page, KEY, false)).toMatch(/kept in memory/);
    const ok = await askHosted(page);
    expect(ok.error, ok.error ?? '').toBeNull();
    expect(ok.finish).toBe('stop');
    const headers = await chatRequestHeaders(rec);
    expect(headers.map((h) => h['api-key'])).toEqual([WRONG, KEY]);
    expect(headers.map((h) => h['authorization'])).toEqual([undefined, undefined]);
    await expectNoLeak(rec, 'api-key, right key', { endpoint, authHeader: 'api-key', remembered: null });
  }, TEST_TIMEOUT);
});
