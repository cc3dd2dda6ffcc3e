/**
 * Constrained decoding in the browser (issue 15): the app's model worker, driven through
 * harness.html, gives for every JSON-extraction case (tests/fixtures) exactly the reference
 * server's constrained greedy answer for the same model and dtype (the server's model runs here,
 * in Node, on onnxruntime-node); XGrammar is loaded lazily in the worker from its own chunk.
 * On WebGPU (SwiftShader) the generate() path honours the grammar through its logits processor.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoadedInfo } from '../../src/engines/local/protocol';
import type { ChatMessage, GenerationParams } from '../../src/engines/types';
import type { ResponseFormat } from '../../src/inference/response-format';
import type { ChatModel } from '../../server/model';
import { loadModel } from '../../server/start';
import { JSON_CASES, matchesSchema } from '../constrained-fixtures';
import { launchBrowser, openPage, type PageLog } from './browser';
import type { HarnessLoad, HarnessRun } from './harness-types';

const appUrl = inject('appUrl');
const modelsDir = inject('modelsDir');
const MODEL = 'slm-pocket';

async function openHarness(browser: Browser): Promise<{ page: Page; log: PageLog }> {
  const { page, log } = await openPage(browser, `${appUrl}harness.html`);
  await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
  return { page, log };
}
const load = (page: Page, opts: Omit<HarnessLoad, 'source'>): Promise<LoadedInfo> =>
  page.evaluate((o) => window.slmHarness.load({ source: { type: 'bundled', modelId: 'slm-pocket' }, ...o }), opts);
const generate = (page: Page, messages: ChatMessage[], params: Partial<GenerationParams>): Promise<HarnessRun> =>
  page.evaluate(([m, p]) => window.slmHarness.generate(m, p), [messages, params] as const);

const formatOf = (c: (typeof JSON_CASES.cases)[number]): ResponseFormat => ({ type: 'json_schema', name: c.id, schema: c.schema });
const messagesOf = (prompt: string): ChatMessage[] => [{ role: 'user', content: prompt }];

/** The reference server's model answering with the grammar (the path POST /v1/chat/completions takes). */
async function serverText(model: ChatModel, prompt: string, format: ResponseFormat, maxTokens: number) {
  await model.prepareFormat(format);
  const out = await model.generate(model.prepare(messagesOf(prompt)), { maxTokens, minTokens: 0, sampling: { temperature: 0, topP: null, topK: null, repetitionPenalty: null, seed: null }, stop: [], responseFormat: format }, () => {}, new AbortController().signal);
  return { text: out.text, finish: out.finishReason, complete: out.jsonComplete };
}

describe('constrained decoding in the worker equals the reference server', () => {
  let browser: Browser;
  let page: Page;
  let log: PageLog;
  const server = new Map<string, ChatModel>();
  /** `int8Step`: the server on the browser's int8 step (--int8-step), whose q8 prompts run row by row as the worker's do. */
  const serverModel = async (dtype: 'fp32' | 'q8', int8Step = false) => {
    const key = `${dtype}${int8Step ? '+step' : ''}`;
    let m = server.get(key);
    if (!m) server.set(key, (m = await loadModel({ modelsDir, model: MODEL, dtype, threads: 1, int8Step }, () => {})));
    return m;
  };
  beforeAll(async () => {
    browser = await launchBrowser();
    ({ page, log } = await openHarness(browser));
  });
  afterAll(async () => {
    await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
    await browser?.close();
    for (const m of server.values()) await m.dispose();
  });

  // q8 runs on the int8 step in the worker, on the step in the server too (--int8-step); with the step off in the
  // worker, on native ONNX Runtime in the server: both pairs compute the same numbers.
  it.each([['fp32', true], ['q8', true], ['q8', false]] as const)('WASM %s (int8 step %s): every JSON-extraction case, greedy, the same JSON as the server, valid', async (dtype, int8Step) => {
    const info = await load(page, { dtype, device: 'wasm', threads: 1, warmup: null, int8Step });
    expect(info.decodeLoop).toBe('kv-loop');
    expect(info.decodeEngine).toBe(dtype === 'q8' && int8Step ? 'int8-step' : 'onnxruntime');
    const model = await serverModel(dtype, dtype === 'q8' && int8Step);
    for (const c of JSON_CASES.cases) {
      const want = await serverText(model, c.prompt, formatOf(c), JSON_CASES.max_tokens);
      const r = await generate(page, messagesOf(c.prompt), { greedy: true, maxNewTokens: JSON_CASES.max_tokens, responseFormat: formatOf(c) });
      expect({ text: r.text, finish: r.finishReason, complete: r.jsonComplete }, c.id).toEqual(want);
      expect(matchesSchema(r.text, c.schema), `${c.id}: ${r.text}`).toEqual({ ok: true });
    }
    // Text answers are untouched and say nothing about JSON.
    const plain = await generate(page, messagesOf('What is the capital of France?'), { greedy: true, maxNewTokens: 16 });
    expect(plain.jsonComplete).toBeNull();
    expect(log.errors).toEqual([]);
  });

  it('an answer cut by max new tokens ends with length and incomplete JSON; a bad schema is a clear error and the worker keeps working', async () => {
    await load(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: null });
    const c = JSON_CASES.cases[0]!;
    const cut = await generate(page, messagesOf(c.prompt), { greedy: true, maxNewTokens: 4, responseFormat: formatOf(c) });
    expect(cut.finishReason).toBe('length');
    expect(cut.jsonComplete).toBe(false);
    const bad = await page.evaluate(
      ([m, p]) => window.slmHarness.generate(m, p).then(() => 'ok', (e: unknown) => String(e)),
      [messagesOf('x'), { responseFormat: { type: 'json_schema', name: 'b', schema: { type: 'integer', minimum: 3, maximum: 1 } } }] as const,
    );
    expect(bad).toContain('The range at # is empty');
    const again = await generate(page, messagesOf(c.prompt), { greedy: true, maxNewTokens: JSON_CASES.max_tokens, responseFormat: formatOf(c) });
    expect(again.jsonComplete).toBe(true);
  });

  it('after XGrammar aborts in the worker, the next JSON request runs on a fresh instance; the model answers in JSON again', async () => {
    await load(page, { dtype: 'fp32', device: 'wasm', threads: 1, warmup: null });
    const worker = page.workers().filter((w) => w.url().includes('model.worker')).at(-1);
    if (!worker) throw new Error(`no model worker among ${page.workers().map((w) => w.url()).join(', ')}`);
    type Hooks = { grammarRecovery(): Promise<{ error: string; restarts: number; allowed: number[]; freshInstance: boolean }> };
    const r = await worker.evaluate(() => (self as unknown as { __slmTestHooks: Hooks }).__slmTestHooks.grammarRecovery());
    // A real abort of the WebAssembly (Emscripten's "Aborted()"), then JSON mode on a new instance: only "{" may start.
    expect(r.error).toMatch(/could not be compiled.*Aborted/);
    expect(r).toMatchObject({ restarts: 1, allowed: [0], freshInstance: true });
    const c = JSON_CASES.cases[0]!;
    const again = await generate(page, messagesOf(c.prompt), { greedy: true, maxNewTokens: JSON_CASES.max_tokens, responseFormat: formatOf(c) });
    expect(again.jsonComplete).toBe(true);
    expect(matchesSchema(again.text, c.schema), again.text).toEqual({ ok: true });
  });
});

describe('WebGPU (SwiftShader): generate() with the grammar as a logits processor', () => {
  let browser: Browser;
  let page: Page;
  let log: PageLog;
  let model: ChatModel;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
    ({ page, log } = await openHarness(browser));
    model = await loadModel({ modelsDir, model: MODEL, dtype: 'fp32', threads: 1 }, () => {});
  });
  afterAll(async () => {
    await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
    await browser?.close();
    await model?.dispose();
  });

  it('the shortest case: valid JSON, the same as the server (SwiftShader decodes ~1 token/s)', async () => {
    const info = await load(page, { dtype: 'fp32', device: 'webgpu', threads: 1, warmup: null });
    expect(info.decodeLoop).toBe('generate');
    const c = JSON_CASES.cases.find((x) => x.id === 'sum')!;
    const want = await serverText(model, c.prompt, formatOf(c), 24);
    const r = await generate(page, messagesOf(c.prompt), { greedy: true, maxNewTokens: 24, responseFormat: formatOf(c) });
    expect(matchesSchema(r.text, c.schema), r.text).toEqual({ ok: true });
    expect({ text: r.text, finish: r.finishReason, complete: r.jsonComplete }).toEqual(want);
    expect(log.errors).toEqual([]);
  });
});
