/**
 * The int8 step of our own (src/inference/int8-session.ts) in headless Chromium through the app's hub path: the
 * CI scale shape's q8 export (15.7M parameters, SmolLM2's vocabulary; scripts/models-scale.ts, cached) loads with
 * its runs on the step, whose greedy ids are those of onnxruntime-node fed a token a run (the step runs prompts row
 * by row) up to its first near tie; turned off for a load, the app decodes on ONNX Runtime Web alone, whose ids are
 * onnxruntime-node's with its prompt in one run up to that run's first near tie; q4 loads on the step too (its
 * weights made int8 at load), or with the step off as exact fp32 matmuls; fp32 says why it runs without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureScaleModel, SCALE_CACHE, type ScaleModel } from '../../scripts/models-scale';
import type { LoadedInfo } from '../../src/engines/local/protocol';
import type { ChatMessage } from '../../src/engines/types';
import { chooseLoop } from '../../src/inference/core';
import { readInt8Llama } from '../../src/inference/int8-llama';
import { promptIds } from '../../src/inference/prompt';
import { INT8_STEP_WASM } from '../../src/inference/int8-step.wasm';
import { INT8_STEP_RELAXED_WASM } from '../../src/inference/int8-step-relaxed.wasm';
import { relaxedAgreement } from '../relaxed-check';
import { beforeFirstTie, rowByRow, tracedGreedy } from '../traced-greedy';
import { launchBrowser, openPage, type PageLog } from './browser';
import { MIRROR_ORG, startModelHost, type ModelHost } from './model-host';
import { modelsDir } from './parity';

const { AutoModelForCausalLM, AutoTokenizer, env } = transformers;
const appUrl = inject('appUrl');
const N = 48;
const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'What is the capital of France?' }];

let ci: ScaleModel;
let host: ModelHost;
let root: string;
let browser: Browser;
let page: Page;
let log: PageLog;

/**
 * onnxruntime-node's greedy ids for the chat prompt, and each one's ids before its first near tie: ONNX Runtime with
 * the prompt in one run (`ort`), fed a token a run (`rows`, the step's reference), and the int8 step.
 */
async function nodeIds(): Promise<{ ort: number[]; ortTie: number; rows: number[]; int8: number[]; tie: number }> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = SCALE_CACHE + '/';
  const tokenizer = await AutoTokenizer.from_pretrained(ci.name);
  const model = await AutoModelForCausalLM.from_pretrained(ci.name, { dtype: 'q8', device: 'cpu' });
  try {
    const config = JSON.parse(fs.readFileSync(path.join(ci.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const int8 = readInt8Llama(new Uint8Array(fs.readFileSync(path.join(ci.dir, 'onnx/model_quantized.onnx'))), config);
    const base = { device: 'cpu' as const, eosTokenIds: [], pooled: false };
    const ids = promptIds(tokenizer.apply_chat_template(MESSAGES, { add_generation_prompt: true, return_dict: true }));
    const ort = await tracedGreedy(chooseLoop(transformers, model, base).decoder!, ids, N);
    const sessions = model.sessions as Record<string, Parameters<typeof rowByRow>[0]>;
    sessions['model'] = rowByRow(sessions['model']!);
    const rows = await tracedGreedy(chooseLoop(transformers, model, base).decoder!, ids, N);
    const own = await tracedGreedy(chooseLoop(transformers, model, { ...base, int8 }).decoder!, ids, N);
    return { ort: ort.ids, ortTie: beforeFirstTie(ort.rows), rows: rows.ids, int8: own.ids, tie: beforeFirstTie(rows.rows) };
  } finally {
    await model.dispose();
  }
}

async function load(dtype: 'q8' | 'fp32' | 'q4', int8Step?: boolean, threads = 1, int8Relaxed = true): Promise<LoadedInfo> {
  const source = { type: 'mirror' as const, host: host.url, modelId: `${MIRROR_ORG}/${ci.name}`, revision: 'main' };
  return page.evaluate(([s, d, i, n, x]) => window.slmHarness.load({ source: s, dtype: d, device: 'wasm', threads: n, warmup: null, int8Relaxed: x, ...(i === null ? {} : { int8Step: i }) }), [source, dtype, int8Step ?? null, threads, int8Relaxed] as const);
}

const generate = () => page.evaluate(([msgs, n]) => window.slmHarness.generate(msgs, { greedy: true, maxNewTokens: n, minNewTokens: n }), [MESSAGES, N] as const);

beforeAll(async () => {
  ci = await ensureScaleModel({ shape: 'ci', dtypes: ['fp32', 'q8', 'q4'] }, console.log);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-int8-host-'));
  host = await startModelHost(path.join(modelsDir(), 'slm-pocket'), root);
  fs.symlinkSync(ci.dir, path.join(root, MIRROR_ORG, ci.name), 'dir');
  browser = await launchBrowser();
  ({ page, log } = await openPage(browser, `${appUrl}harness.html`));
  await page.waitForSelector('body[data-harness="ready"]', { state: 'attached' });
}, 600_000);

afterAll(async () => {
  await page?.evaluate(() => window.slmHarness.dispose()).catch(() => undefined);
  await browser?.close();
  await host?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('int8 step in Chromium (CI scale shape, q8)', () => {
  it("runs on the step: onnxruntime-node's ids (a token a run) up to its first near tie, on two threads the same; off: on ONNX Runtime Web, native's with one prompt run", async () => {
    const want = await nodeIds();
    expect([want.tie, want.ortTie], 'ids before the first near tie').toEqual([expect.any(Number), expect.any(Number)]);
    expect(Math.min(want.tie, want.ortTie), 'ids before the first near tie').toBeGreaterThanOrEqual(8);
    expect(want.int8.slice(0, want.tie)).toEqual(want.rows.slice(0, want.tie));

    const info = await load('q8');
    expect([info.decodeLoop, info.decodeEngine, info.decodeEngineReason]).toEqual(['kv-loop', 'int8-step', null]);
    const file = fs.statSync(path.join(ci.dir, 'onnx/model_quantized.onnx')).size;
    // Its memory: the int8 weights, the f32 embedding's copy stays in JavaScript; scratch and the first KV capacity.
    expect(info.int8Step!.memoryBytes / file, 'step memory ÷ file').toBeGreaterThan(0.2);
    expect(info.int8Step!.memoryBytes / file).toBeLessThan(1.2);
    expect(info.int8Step!.loadMs).toBeGreaterThan(0);
    // The step read the model in ONNX Runtime's place: no session of ONNX Runtime's, no rewrite.
    expect([info.int8Step!.onnxRuntimeSession, info.weightRewrite]).toEqual([false, null]);
    const a = await generate();
    expect(a.outputTokenIds!.slice(0, want.tie), 'Chromium int8 step vs onnxruntime-node a token a run').toEqual(want.rows.slice(0, want.tie));
    expect(a.finishReason).toBe('length');
    expect(a.decodeStats?.steps).toBe(N);
    expect([info.int8Step!.threads, info.int8Step!.threadNote]).toEqual([1, null]);
    // Two threads: a helper worker on the step's shared memory takes half of each matrix and of the heads; the
    // same numbers, so the same ids all the way.
    const two = await load('q8', undefined, 2);
    expect([two.threads, two.decodeEngine, two.int8Step?.threads, two.int8Step?.threadNote]).toEqual([2, 'int8-step', 2, null]);
    expect((await generate()).outputTokenIds, 'two threads vs one').toEqual(a.outputTokenIds);
    // The kernel's build: relaxed SIMD's int8 dot where this Chromium multiplies 8-bit activations exactly (judged
    // here by both builds' sums, not by the kernel's own check), plain SIMD otherwise; plain asked for, the same
    // integer sums and so the same ids all the way.
    const agree = await page.evaluate(relaxedAgreement, { relaxed: INT8_STEP_RELAXED_WASM, plain: INT8_STEP_WASM });
    expect(agree.equalLow, 'activations 0..127: exact by the spec').toBe(true);
    expect(agree.dotExact === 1, `dotExact ${agree.dotExact}, sums equal ${agree.equal}`).toBe(agree.equal);
    expect([info.int8Step!.kernel, two.int8Step!.kernel]).toEqual(agree.equal ? ['relaxed', 'relaxed'] : ['simd', 'simd']);
    console.log(`int8 step kernel in this Chromium: ${info.int8Step!.kernel}${info.int8Step!.kernelNote ? ` (${info.int8Step!.kernelNote})` : ''}`);
    const plain = await load('q8', undefined, 2, false);
    expect([plain.int8Step?.kernel, plain.int8Step?.kernelNote]).toEqual(['simd', 'relaxed SIMD turned off for this load']);
    expect((await generate()).outputTokenIds, 'plain SIMD vs the default build').toEqual(a.outputTokenIds);

    const off = await load('q8', false);
    expect([off.decodeEngine, off.int8Step]).toEqual(['onnxruntime', null]);
    expect(off.decodeEngineReason).toMatch(/turned off/);
    expect((await generate()).outputTokenIds!.slice(0, want.ortTie), 'ONNX Runtime Web vs onnxruntime-node').toEqual(want.ort.slice(0, want.ortTie));

    const fp32 = await load('fp32');
    expect(fp32.decodeEngine).toBe('onnxruntime');
    expect(fp32.decodeEngineReason).toMatch(/8-bit models .*, not fp32/);
    // q4: its weights made int8 by the step's reader, no ONNX Runtime session and so no rewrite for one
    // (tests/int8-session-node.test.ts checks its numbers against ONNX Runtime on the rewritten graph); with the
    // step off, the exact fp32 matmuls of before.
    const q4 = await load('q4');
    expect([q4.weightRewrite, q4.decodeEngine, q4.decodeEngineReason, q4.int8Step?.onnxRuntimeSession]).toEqual([null, 'int8-step', null, false]);
    const q4a = await generate();
    expect([q4a.finishReason, q4a.decodeStats?.steps]).toEqual(['length', N]);
    expect(new Set(q4a.outputTokenIds).size, 'not one id repeated').toBeGreaterThan(3);
    const q4off = await load('q4', false);
    expect([q4off.weightRewrite?.to, q4off.decodeEngine]).toEqual(['fp32', 'onnxruntime']);
    expect(q4off.decodeEngineReason).toMatch(/turned off/);
    expect(log.errors).toEqual([]);
  }, 300_000);
});
