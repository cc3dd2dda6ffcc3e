// @vitest-environment node
// KV reuse across turns (src/inference/kv-cache.ts through the core) on the embedded models in
// onnxruntime-node: over the scripted 8-turn conversation (tests/kv-conversation.ts), greedy
// output with reuse is token-for-token that of a full re-prefill, on both loops and every dtype,
// and the reuse really happens (follow-ups reuse most of the prompt; the edited system prompt and
// New chat cut the kept state; another model starts cold).
import fs from 'node:fs';
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { TokenGenerator, type GenerationHooks } from '../src/inference/core';
import { kvReuseBlocker } from '../src/inference/kv-cache';
import { DEFAULT_GENERATION } from '../src/inference/params';
import { promptIds } from '../src/inference/prompt';
import { decodeSettings } from '../src/inference/settings';
import { runScript, SCRIPT, type Msg } from './kv-conversation';

const { AutoModelForCausalLM, AutoTokenizer, env } = transformers;
const MODELS_DIR = path.resolve('public/models');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';
const MODELS = ['slm-pocket', 'slm-reference'].filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'config.json')));
const LIMITS = { maxBytes: 64 * 1024 * 1024, maxEntries: 1 };
const settings = decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: 30 }, null);

async function load(name: string, dtype: 'fp32' | 'q8' | 'q4', loop: 'auto' | 'generate') {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu' });
  const eos = [model.generation_config?.eos_token_id ?? []].flat().map(Number);
  const blocker = kvReuseBlocker(dtype);
  const gen = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false, loop, ...(blocker ? { cacheOffReason: blocker } : { cache: LIMITS }) });
  const prompt = (messages: Msg[]) => promptIds(tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true }));
  const decode = (ids: number[]) => tokenizer.decode(ids, { skip_special_tokens: true });
  return { model, gen, prompt, decode };
}

const hooks = (stopAfter: number | null): GenerationHooks => {
  let n = 0;
  return { onToken: () => n++, shouldStop: () => (stopAfter !== null && n >= stopAfter ? 'abort' : null) };
};

/** Runs the script with reuse and, for every turn, a full re-prefill; returns what each turn reused. */
async function conversation(m: Awaited<ReturnType<typeof load>>, label: string) {
  const reused: number[] = [];
  const prompts: number[] = [];
  const notes: (string | null)[] = [];
  await runScript(async (messages, turn, stopAfter) => {
    const ids = m.prompt(messages);
    const withReuse = await m.gen.generate(ids, settings, hooks(stopAfter));
    const full = await m.gen.generate(ids, settings, hooks(stopAfter), { reuse: false });
    expect(withReuse.ids, `${label} turn ${turn + 1}`).toEqual(full.ids);
    expect(withReuse.finishReason).toBe(full.finishReason);
    expect(full.prefill).toMatchObject({ reused: 0, computed: ids.length });
    expect(withReuse.prefill.reused + withReuse.prefill.computed).toBe(ids.length);
    reused.push(withReuse.prefill.reused);
    notes.push(withReuse.prefill.note);
    prompts.push(ids.length);
    return m.decode(withReuse.ids);
  });
  return { reused, prompts, notes };
}

describe.each(MODELS)('KV reuse across turns, %s', (name) => {
  it.each([
    ['fp32', 'auto'],
    ['q8', 'auto'],
    ['q4', 'auto'],
    ['fp32', 'generate'],
    ['q8', 'generate'],
  ] as const)('%s on the %s loop: 8 turns, every answer equals a full re-prefill', async (dtype, loop) => {
    const m = await load(name, dtype, loop);
    expect(m.gen.loop).toBe(loop === 'auto' ? 'kv-loop' : 'generate');
    const { reused, prompts, notes } = await conversation(m, `${name} ${dtype} ${loop}`);
    expect(reused[0]).toBe(0);
    if (dtype === 'q8') {
      // Dynamic quantization (kv-cache.ts: kvReuseBlocker): no reuse, and each run says why.
      expect(reused.every((n) => n === 0)).toBe(true);
      expect(notes.every((n) => /quantize activations per run/.test(n ?? ''))).toBe(true);
      expect(m.gen.cacheStats()).toBeNull();
      await m.model.dispose();
      return;
    }
    // Follow-ups (turns 2, 3, 4, 6, 8) reuse all of the last prompt and most of the answer.
    for (const t of [1, 2, 3, 5, 7]) expect(reused[t], `turn ${t + 1}`).toBeGreaterThan((prompts[t - 1] ?? 0) - 1);
    // The edited system prompt (turn 5) keeps only the template's opening; New chat (turn 7) the
    // system prompt it shares with the chat before.
    expect(reused[4]).toBeLessThan(10);
    expect(reused[6]).toBeGreaterThan(reused[4] ?? 0);
    expect(reused[6]).toBeLessThan(prompts[6] ?? 0);
    const stats = m.gen.cacheStats();
    expect(stats?.entries).toBe(1);
    expect(stats?.hits).toBeGreaterThanOrEqual(5);
    m.gen.clearCache();
    expect(m.gen.cacheStats()?.bytes).toBe(0);
    await m.model.dispose();
  });
});

describe.skipIf(MODELS.length < 2)('KV reuse and a model switch', () => {
  it('another model starts cold and still matches a full re-prefill', async () => {
    const a = await load('slm-pocket', 'fp32', 'auto');
    const b = await load('slm-reference', 'q4', 'auto');
    let current = a;
    const reused: number[] = [];
    await runScript(async (messages, turn, stopAfter) => {
      if (turn === 3) current = b; // the user loads the other model mid-conversation
      const ids = current.prompt(messages);
      const r = await current.gen.generate(ids, settings, hooks(stopAfter));
      const full = await current.gen.generate(ids, settings, hooks(stopAfter), { reuse: false });
      expect(r.ids, `turn ${turn + 1}`).toEqual(full.ids);
      reused.push(r.prefill.reused);
      return current.decode(r.ids);
    }, SCRIPT.slice(0, 6));
    expect(reused[3]).toBe(0);
    expect(reused[5]).toBeGreaterThan(0);
    await a.model.dispose();
    await b.model.dispose();
  });
});
