/**
 * Model sources other than the embedded one, through the UI, all offline:
 * a local hub-like host (global setup, tests/e2e/model-host.ts) with a good copy of the pocket
 * model and broken variants, and Hugging Face itself (unreachable: the browser resolves no
 * public host name). Every failure must show a typed, specific error, and the same page must
 * then still load the embedded model and answer, without a reload.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, openPage, type PageLog } from './browser';
import { hostLog, MIRROR_MODELS } from './model-host';
import { eosIds, expectedRun, readParity, uiCases, type ParityCase } from './parity';
import { ASSISTANT_TURNS, ask, loadModel, loadModelOk, tid, waitForProbe, type LoadOptions, type LoadOutcome } from './ui';

const appUrl = inject('appUrl');
const hostUrl = inject('hostUrl');

let browser: Browser;
let context: BrowserContext;
let page: Page;
let log: PageLog;
let chat: ParityCase;

// One page for the whole file: the point is that errors leave it usable without a reload.
beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page, log } = await openPage(browser, appUrl));
  await waitForProbe(page);
  const parity = readParity();
  const c = uiCases(parity, eosIds(parity))[0];
  if (!c) throw new Error('parity.json has no single-user-message case that ends on EOS');
  chat = c;
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

/** Source tests use one thread and no warm-up: thread counts are app.test.ts's subject. */
const FAST: LoadOptions = { device: 'wasm', threads: 1, warmup: false };
const mirror = (modelId: string): LoadOptions => ({ ...FAST, source: { type: 'mirror', host: hostUrl, modelId } });

async function newChat(): Promise<void> {
  const clear = page.locator(tid('new-chat'));
  if (await clear.isEnabled()) await clear.click();
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 0, ASSISTANT_TURNS);
}

/** The greedy answer to the chat parity case, in a new chat. */
async function answer(): Promise<string> {
  await newChat();
  const t = await ask(page, chat.messages[0]!.content);
  expect(t.error).toBeNull();
  return t.content;
}

/** After a failed load: the embedded model still loads in the same page and answers like PyTorch. */
async function expectStillWorks(): Promise<void> {
  await loadModelOk(page, { ...FAST, source: { type: 'bundled', modelId: 'slm-pocket' } });
  expect(await answer()).toBe(chat.text);
  expect(log.errors).toEqual([]);
}

function expectError(r: LoadOutcome, codes: string[]): asserts r is Extract<LoadOutcome, { ok: false }> {
  expect(r.ok, r.ok ? `loaded, but an error (${codes.join('|')}) was expected` : '').toBe(false);
  if (r.ok) return;
  expect(codes, `data-code=${r.code}: ${r.text}`).toContain(r.code);
}

describe('model sources (UI, offline)', () => {
  it('loads the pocket model from a custom host and answers exactly like the embedded copy', async () => {
    const r = await loadModelOk(page, mirror(MIRROR_MODELS.good));
    expect(r.statusText).toContain(MIRROR_MODELS.good);
    // The weights really came from the host (not the app's own copy).
    const requests = await hostLog(hostUrl);
    const got = (file: string, method = 'GET') =>
      requests.some((q) => q.method === method && q.status === 200 && q.path === `/${MIRROR_MODELS.good}/resolve/main/${file}`);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) expect(got(f), `GET ${f}`).toBe(true);
    expect(got('onnx/model.onnx', 'HEAD'), 'preflight HEAD of the weights').toBe(true);

    const fromMirror = await answer();
    expect(fromMirror).toBe(chat.text);

    // Downloaded models are kept in the browser cache and listed there.
    await page.click(tid('tab-cache'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForSelector(`${tid('cache-list')} >> text=${MIRROR_MODELS.good}`);
    // Its bytes sit in OPFS files (src/models/opfs.ts); Delete removes them with their records.
    const stored = () =>
      page.evaluate(async (marker) => {
        const cache = await caches.open('transformers-cache');
        const names: string[] = [];
        for (const req of await cache.keys()) {
          if (req.url.endsWith('?slm-meta') && req.url.includes(marker)) names.push((await (await cache.match(req))!.json()).opfs);
        }
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('slm-models', { create: true });
        const files: string[] = [];
        for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) files.push(name);
        return { names, files };
      }, `/${MIRROR_MODELS.good}/`);
    const kept = await stored();
    expect(kept.names.length).toBeGreaterThanOrEqual(4);
    for (const n of kept.names) expect(kept.files).toContain(n);
    await page.locator(`${tid('cache-list')} tr`, { hasText: MIRROR_MODELS.good }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForSelector(`${tid('cache-list')} >> text=${MIRROR_MODELS.good}`, { state: 'detached' });
    const gone = await stored();
    expect(gone.names).toEqual([]);
    for (const n of kept.names) expect(gone.files).not.toContain(n);
    await page.click(tid('tab-model'));

    await loadModelOk(page, { ...FAST, source: { type: 'bundled', modelId: 'slm-pocket' } });
    expect(await answer()).toBe(fromMirror);
    expect(log.errors).toEqual([]);
  });

  it('a model id the host does not have: model-not-found, naming the model', async () => {
    const id = `${MIRROR_MODELS.good}-nope`;
    const r = await loadModel(page, mirror(id));
    expectError(r, ['model-not-found']);
    expect(r.text).toContain(id);
    expect(r.text).toMatch(/404/);
    await expectStillWorks();
  });

  it('corrupted ONNX weights: corrupt-model', async () => {
    const r = await loadModel(page, mirror(MIRROR_MODELS.corrupt));
    expectError(r, ['corrupt-model']);
    expect(r.text).toContain('onnx/model.onnx');
    await expectStillWorks();
  });

  it('no tokenizer files: tokenizer-missing', async () => {
    const r = await loadModel(page, mirror(MIRROR_MODELS.noTokenizer));
    expectError(r, ['tokenizer-missing']);
    expect(r.text).toMatch(/tokenizer(_config)?\.json/);
    await expectStillWorks();
  });

  it('a tokenizer.json that is not JSON: tokenizer-missing, though the weights load beside it', async () => {
    // The tokenizer and the weights load together (worker/load.ts): the tokenizer's failure is the
    // one reported, and the worker it leaves is ended, so the page loads the next model as before.
    const r = await loadModel(page, mirror(MIRROR_MODELS.badTokenizer));
    expectError(r, ['tokenizer-missing']);
    expect(r.text).toContain(MIRROR_MODELS.badTokenizer);
    await expectStillWorks();
  });

  it('Hugging Face while offline: a clear network error within 30 s, not a hang', async () => {
    const started = Date.now();
    const r = await loadModel(page, { ...FAST, source: { type: 'hub', modelId: 'onnx-community/Qwen2.5-0.5B-Instruct' } }, 30_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expectError(r, ['network', 'model-not-found']);
    expect(r.text).toMatch(/huggingface\.co|Qwen2\.5-0\.5B-Instruct/);
    await expectStillWorks();
  });
});
