/**
 * KV reuse in the browser: the app's engine (model worker: ONNX Runtime Web with its output pool, or the int8 step)
 * driven through harness.html over the scripted 8-turn conversation (tests/kv-conversation.ts).
 * Every answer with the kept KV state is token-for-token the answer of a full re-prefill (the
 * same engine with reuse off), the Stop mid-answer leaves a prefix of it, the run metrics say how
 * many prompt tokens were reused, and a model switch starts cold.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoadedInfo } from '../../src/engines/local/protocol';
import type { ChatMessage, GenerationParams } from '../../src/engines/types';
import { runScript } from '../kv-conversation';
import { launchBrowser, openPage } from './browser';
import type { HarnessLoad, HarnessRun } from './harness-types';

const appUrl = inject('appUrl');
const PARAMS: Partial<GenerationParams> = { greedy: true, maxNewTokens: 30 };

function load(page: Page, modelId: string, opts: Omit<HarnessLoad, 'source'>): Promise<LoadedInfo> {
  return page.evaluate(([id, o]) => window.slmHarness.load({ source: { type: 'bundled', modelId: id }, ...o }), [modelId, opts] as const);
}

function generate(page: Page, messages: ChatMessage[], kvReuse: boolean): Promise<HarnessRun> {
  return page.evaluate(([m, p, r]) => window.slmHarness.generate(m, p, r), [messages, PARAMS, kvReuse] as const);
}

function generateAndStop(page: Page, messages: ChatMessage[]): Promise<HarnessRun> {
  return page.evaluate(([m, p]) => window.slmHarness.generateAndStop(m, 1, p), [messages, { ...PARAMS, maxNewTokens: 200, minNewTokens: 200 }] as const);
}

describe('KV reuse across turns in the browser (harness.html, WASM)', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    ({ page } = await openPage(browser, `${appUrl}harness.html`));
    await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
  });
  afterAll(async () => {
    await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
    await browser?.close();
  });

  it.each([
    ['slm-pocket', 'fp32'],
    ['slm-reference', 'q4'],
    // q8 on the int8 step, whose row-at-a-time prompts make reuse exact (ONNX Runtime's q8 keeps no KV: kv-cache.ts).
    ['slm-reference', 'q8'],
  ] as const)('%s %s: 8 turns with reuse equal a full re-prefill, with a Stop, an edited system prompt and New chat', async (modelId, dtype) => {
    const info = await load(page, modelId, { dtype, device: 'wasm', threads: 1, warmup: null });
    expect(info.decodeLoop).toBe('kv-loop');
    // fp32 on ONNX Runtime with its output pool; q4 (made int8 at load) and q8 on the int8 step, which has its own.
    expect([info.decodeEngine, info.outputPool]).toEqual(dtype === 'fp32' ? ['onnxruntime', true] : ['int8-step', false]);
    const reused: number[] = [];
    const notes: (string | null)[] = [];
    await runScript(async (messages, turn, stopAfter) => {
      const what = `${modelId} turn ${turn + 1}`;
      if (stopAfter !== null) {
        const stopped = await generateAndStop(page, messages);
        expect(stopped.finishReason, what).toBe('abort');
        const full = await page.evaluate(([m, p]) => window.slmHarness.generate(m, p, false), [messages, { ...PARAMS, maxNewTokens: 200, minNewTokens: 200 }] as const);
        expect(full.outputTokenIds?.slice(0, stopped.outputTokenIds?.length), what).toEqual(stopped.outputTokenIds);
        expect(stopped.outputTokenIds?.length ?? 0).toBeLessThan(200);
        reused.push(stopped.metrics.reusedInputTokens ?? -1);
        notes.push(stopped.metrics.prefillNote ?? null);
        return stopped.text;
      }
      const r = await generate(page, messages, true);
      const full = await generate(page, messages, false);
      expect(r.outputTokenIds, what).toEqual(full.outputTokenIds);
      expect(r.finishReason, what).toBe(full.finishReason);
      expect(full.metrics.reusedInputTokens, what).toBe(0);
      expect(full.metrics.prefillNote, what).toBe('reuse of the KV cache is off');
      expect(r.metrics.inputTokens).toBe(full.metrics.inputTokens);
      reused.push(r.metrics.reusedInputTokens ?? -1);
      notes.push(r.metrics.prefillNote ?? null);
      return r.text;
    });
    // A new model starts cold; follow-ups reuse; the edited system prompt keeps only the template's opening.
    expect(reused[0]).toBe(0);
    for (const t of [1, 2, 3, 5, 7]) expect(reused[t], `turn ${t + 1}`).toBeGreaterThan(20);
    expect(reused[4]).toBeLessThan(10);
    // The run metrics say why a turn reused less than was kept, in the conversation's words.
    expect(notes[0]).toBe('prefilled whole: first prompt since the model loaded');
    for (const t of [1, 2, 5, 7]) expect(notes[t], `turn ${t + 1}`).toBeNull();
    expect(notes[3] === null || /after Stop/.test(notes[3] ?? ''), `turn 4: ${notes[3]}`).toBe(true);
    expect(notes[4]).toMatch(/: system prompt edited$/);
    expect(notes[6]).toMatch(/: new chat$/);
  });
});
