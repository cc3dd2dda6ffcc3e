// @vitest-environment node
// The generation core (src/inference/core.ts) on a real model in onnxruntime-node: the loop it
// chooses and why, greedy parity between its two loops, the finish rules, and top-p on the
// generate() path (transformers.js 4.3 ignores top_p there; the core adds its own processor).
import fs from 'node:fs';
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { TokenGenerator, finishReason, type GenerationHooks, type StopKind } from '../src/inference/core';
import { DEFAULT_GENERATION } from '../src/inference/params';
import { promptIds } from '../src/inference/prompt';
import { decodeSettings, type DecodeSettings } from '../src/inference/settings';

const { AutoModelForCausalLM, AutoTokenizer, env } = transformers;
const MODELS_DIR = path.resolve('public/models');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';
const NAME = 'slm-pocket';
const available = fs.existsSync(path.join(MODELS_DIR, NAME, 'config.json'));

async function load() {
  const tokenizer = await AutoTokenizer.from_pretrained(NAME);
  const model = await AutoModelForCausalLM.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu' });
  const eos = [model.generation_config?.eos_token_id ?? []].flat().map(Number);
  const prompt = (content: string) => promptIds(tokenizer.apply_chat_template([{ role: 'user', content }], { add_generation_prompt: true, return_dict: true }));
  const kv = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false });
  const gen = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false, loop: 'generate' });
  return { model, eos, prompt, kv, gen };
}

const greedy = (max: number, min = 0): DecodeSettings => decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: max, minNewTokens: min }, null);
const collect = (stopAfter: number | null = null, kind: StopKind = 'abort'): GenerationHooks & { seen: number[] } => {
  const seen: number[] = [];
  return { seen, onToken: (id) => seen.push(id), shouldStop: () => (stopAfter !== null && seen.length >= stopAfter ? kind : null) };
};

describe.skipIf(!available)('generation core, slm-pocket', () => {
  it('chooses its loop and says why', async () => {
    const { model, kv, gen, eos } = await load();
    expect([kv.loop, kv.reason]).toEqual(['kv-loop', null]);
    expect([gen.loop, gen.reason]).toEqual(['generate', 'generate() was asked for']);
    const gpu = new TokenGenerator(transformers, model, { device: 'webgpu', eosTokenIds: eos, pooled: false });
    expect(gpu.loop).toBe('generate');
    expect(gpu.reason).toMatch(/WebGPU/);
    await model.dispose();
  });

  it('both loops: the same greedy tokens, end-of-sequence ends with "stop" and is not in the output', async () => {
    const { model, kv, gen, eos, prompt } = await load();
    const ids = prompt('What is the capital of France?');
    const a = collect();
    const b = collect();
    const t0 = performance.now();
    const ra = await kv.generate(ids, greedy(200), a);
    const wall = performance.now() - t0;
    const rb = await gen.generate(ids, greedy(200), b);
    expect(ra.ids).toEqual(rb.ids);
    expect(ra.ids).toEqual(a.seen);
    expect(rb.ids).toEqual(b.seen);
    expect(ra.ids.length).toBeLessThan(200);
    expect(ra.finishReason).toBe('stop');
    expect(rb.finishReason).toBe('stop');
    for (const id of ra.ids) expect(eos).not.toContain(id);
    expect(ra.decodeStats?.steps).toBe(ra.ids.length + 1);
    // ONNX Runtime's share of the decode steps (all runs but the prefill's): some time, less than the whole generation.
    expect(ra.decodeStats?.decodeRunMs).toBeGreaterThan(0);
    expect(ra.decodeStats?.decodeRunMs).toBeLessThan(wall);
    expect(rb.decodeStats).toBeNull();
    await model.dispose();
  });

  it('finish rules: max tokens → length, fixed length ignores end-of-sequence, the caller stops with its reason', async () => {
    const { model, kv, gen, prompt } = await load();
    const ids = prompt('What is the capital of France?');
    for (const g of [kv, gen]) {
      const short = await g.generate(ids, greedy(3), collect());
      expect([short.ids.length, short.finishReason]).toEqual([3, 'length']);
      const fixed = await g.generate(ids, greedy(120, 120), collect());
      expect([fixed.ids.length, fixed.finishReason]).toEqual([120, 'length']);
      const aborted = await g.generate(ids, greedy(50, 50), collect(4, 'abort'));
      expect([aborted.ids.length, aborted.finishReason]).toEqual([4, 'abort']);
      const stopped = await g.generate(ids, greedy(50, 50), collect(2, 'stop'));
      expect([stopped.ids.length, stopped.finishReason]).toEqual([2, 'stop']);
    }
    expect(finishReason(true, 'abort')).toBe('stop');
    expect(finishReason(false, null)).toBe('length');
    await model.dispose();
  });

  it('top-p applies on the generate() path: a tiny top-p samples the greedy answer, top-p 1 does not', async () => {
    const { model, gen, kv, prompt } = await load();
    const ids = prompt('Tell me a story about a cat.');
    const want = (await gen.generate(ids, greedy(24, 24), collect())).ids;
    const sampled = (topP: number, seed: number): DecodeSettings => ({
      ...decodeSettings({ ...DEFAULT_GENERATION, greedy: false, temperature: 3, topK: 0, topP, maxNewTokens: 24, minNewTokens: 24 }, null),
      seed,
    });
    for (const seed of [1, 2, 3]) {
      expect((await gen.generate(ids, sampled(1e-6, seed), collect())).ids).toEqual(want);
      expect((await kv.generate(ids, sampled(1e-6, seed), collect())).ids).toEqual(want);
    }
    // Without the nucleus (top-p 1) temperature 3 wanders off the greedy answer: the test above could fail.
    expect((await gen.generate(ids, sampled(1, 1), collect())).ids).not.toEqual(want);
    // Seeded: the same seed, the same draw.
    expect((await gen.generate(ids, sampled(0.9, 5), collect())).ids).toEqual((await gen.generate(ids, sampled(0.9, 5), collect())).ids);
    await model.dispose();
  });
});
