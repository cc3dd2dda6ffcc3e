/**
 * Browser parity: the app's engine (model worker + transformers.js + ONNX Runtime Web) driven
 * through harness.html reproduces PyTorch's greedy output ids (public/models/slm-pocket/parity.json)
 * exactly, on WASM with 1 and 2 threads, and for one short case on WebGPU (SwiftShader's
 * software adapter: correct but slow, so one case of a few tokens).
 *
 * EOS: parity.json's output_ids include the EOS token when generation ended on it; the engine's
 * outputTokenIds exclude a trailing EOS and report finishReason 'stop' instead. expectedRun()
 * (tests/e2e/parity.ts) converts parity.json to that form, so ids, finish reason and text are all
 * compared exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoadedInfo, WorkerEnvironment } from '../../src/engines/local/protocol';
import type { ChatMessage, GenerationParams } from '../../src/engines/types';
import { launchBrowser, openPage, type PageLog } from './browser';
import type { HarnessLoad, HarnessRun } from './harness-types';
import { eosIds, expectedRun, modelsDir, readParity, type ParityCase } from './parity';

const appUrl = inject('appUrl');
const parity = readParity();
const eos = eosIds(parity);

async function openHarness(browser: Browser): Promise<{ page: Page; log: PageLog }> {
  const { page, log } = await openPage(browser, `${appUrl}harness.html`);
  await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
  return { page, log };
}

function load(page: Page, opts: Omit<HarnessLoad, 'source'>): Promise<LoadedInfo> {
  return page.evaluate((o) => window.slmHarness.load({ source: { type: 'bundled', modelId: 'slm-pocket' }, ...o }), opts);
}

async function generate(page: Page, messages: ChatMessage[], params: Partial<GenerationParams>): Promise<HarnessRun> {
  return page.evaluate(([m, p]) => window.slmHarness.generate(m, p), [messages, params] as const);
}

/** Generates every case greedily and compares ids, finish reason, text and prompt length. */
async function expectParity(page: Page, cases: ParityCase[], maxNewTokens: number, label: string): Promise<void> {
  for (const c of cases) {
    const want = expectedRun(c, eos, maxNewTokens);
    const r = await generate(page, c.messages as ChatMessage[], { greedy: true, maxNewTokens });
    const what = `${label}: ${JSON.stringify(c.messages.at(-1)?.content)}`;
    expect(r.metrics.inputTokens, `${what} (prompt tokens)`).toBe(c.input_ids.length);
    expect(r.outputTokenIds, what).toEqual(want.ids);
    expect(r.finishReason, what).toBe(want.finishReason);
    if (maxNewTokens >= c.output_ids.length) expect(r.text, what).toBe(c.text);
  }
}

describe('browser parity with PyTorch (harness.html)', () => {
  describe('WASM', () => {
    let browser: Browser;
    let page: Page;
    let log: PageLog;
    beforeAll(async () => {
      browser = await launchBrowser();
      ({ page, log } = await openHarness(browser));
    });
    afterAll(async () => {
      await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
      await browser?.close();
    });

    it.each([1, 2])('fp32, %i thread(s): every parity.json case, greedy, gives exactly output_ids', async (threads) => {
      const info = await load(page, { dtype: 'fp32', device: 'wasm', threads, warmup: null });
      expect(info.device).toBe('wasm');
      expect(info.ortBuild).toBe('plain');
      expect(info.threads).toBe(threads);
      expect(info.crossOriginIsolated).toBe(true);
      expect(new Set(info.eosTokenIds)).toEqual(eos);
      // The worker's own KV loop, with ONNX Runtime writing into reused buffers (the Vite patch is live).
      expect(info.decodeLoop).toBe('kv-loop');
      expect(info.decodeLoopReason).toBeNull();
      expect(info.outputPool).toBe(true);
      await expectParity(page, parity.cases, parity.max_new_tokens, `wasm ${threads}T`);
      const long = await generate(page, [{ role: 'user', content: 'What is the capital of France?' }], { greedy: true, maxNewTokens: 24, minNewTokens: 24 });
      expect(long.decodeStats).toEqual({ steps: 24, pooledOutputs: expect.any(Number), allocatedOutputs: 1, decodeRunMs: expect.any(Number) });
      // 23 decode steps inside session.run: some time, less than the whole answer.
      expect(long.decodeStats?.decodeRunMs).toBeGreaterThan(0);
      expect(long.decodeStats?.decodeRunMs).toBeLessThan(long.metrics.e2eMs ?? Infinity);
      // Every output of every step is pooled except the prefill's logits (one row per prompt token).
      expect(long.decodeStats?.pooledOutputs).toBe(24 * 9 - 1);
      expect(log.errors).toEqual([]);
    });

    it.skipIf(!fs.existsSync(path.join(modelsDir(), 'slm-pocket/onnx/model_quantized.onnx')))('q8 loads and produces text', async () => {
      const info = await load(page, { dtype: 'q8', device: 'wasm', threads: 1, warmup: null });
      expect(info.dtype).toBe('q8');
      const c = parity.cases[0]!;
      const r = await generate(page, c.messages as ChatMessage[], { greedy: true, maxNewTokens: parity.max_new_tokens });
      expect(r.metrics.inputTokens).toBe(c.input_ids.length);
      expect(r.outputTokenIds?.length ?? 0).toBeGreaterThan(0);
      expect(['stop', 'length']).toContain(r.finishReason);
      expect(r.text.trim().length).toBeGreaterThan(0);
    });
  });

  describe('WebGPU (SwiftShader)', () => {
    let browser: Browser;
    let page: Page;
    let log: PageLog;
    beforeAll(async () => {
      browser = await launchBrowser({ webgpu: true });
      ({ page, log } = await openHarness(browser));
    });
    afterAll(async () => {
      await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
      await browser?.close();
    });

    it('probes an adapter, loads on webgpu and matches output_ids for one short case', async () => {
      const env: WorkerEnvironment = await page.evaluate(() => window.slmHarness.probe());
      expect(env.webgpu, env.webgpuUnavailableReason ?? '').not.toBeNull();
      expect(env.webgpuUnavailableReason).toBeNull();

      const info = await load(page, { dtype: 'fp32', device: 'webgpu', threads: 1, warmup: null });
      expect(info.device).toBe('webgpu');
      expect(info.ortBuild).toBe('asyncify');
      expect(info.decodeLoop).toBe('generate');
      expect(info.decodeLoopReason).toMatch(/WebGPU/);

      // One short case: the shortest prompt among those with at least N answer tokens (N = 8), so N
      // tokens are compared; SwiftShader decodes ~1 token/s.
      const N = Math.min(8, parity.max_new_tokens);
      const long = parity.cases.filter((c) => c.output_ids.length >= N);
      const pool = long.length ? long : parity.cases;
      const c = [...pool].sort((a, b) => a.input_ids.length - b.input_ids.length)[0]!;
      await expectParity(page, [c], N, 'webgpu');
      expect(log.errors).toEqual([]);
    });
  });
});
