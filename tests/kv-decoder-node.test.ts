// @vitest-environment node
// The worker's KV decode loop (src/inference/kv-decoder.ts) on onnxruntime-node, on the
// project's own models: greedy output is parity.json's (the training framework's) and, for every
// dtype and for the settings it implements, token-for-token transformers.js's generate().
import fs from 'node:fs';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { kvDecoderFor } from '../src/inference/kv-decoder';
import type { SamplingSettings } from '../src/inference/sampling';

const MODELS_DIR = path.resolve('public/models');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';

interface Message { role: string; content: string }
interface ParityCase { messages: Message[]; input_ids: number[]; output_ids: number[] }
interface Parity { max_new_tokens: number; cases: ParityCase[] }

const MODELS = ['slm-pocket', 'slm-reference'].filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'parity.json')));
const GREEDY: SamplingSettings = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: 0 };

async function load(name: string, dtype: 'fp32' | 'q8' | 'q4') {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu' });
  const kv = kvDecoderFor(model, (type, data, dims) => new Tensor(type, data, dims).ort_tensor, false);
  if (!kv.decoder) throw new Error(`no KV loop for ${name}: ${kv.reason}`);
  const decoder = kv.decoder;
  const eos = [model.configs['generation_config']?.eos_token_id ?? (model.config as unknown as Record<string, unknown>)['eos_token_id']].flat().map(Number);
  const prompt = (messages: Message[]) => {
    const inputs = tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true }) as unknown as {
      input_ids: { data: ArrayLike<bigint>; dims: number[] };
      attention_mask: unknown;
    };
    return { inputs, ids: Array.from(inputs.input_ids.data, Number) };
  };
  const viaLoop = async (messages: Message[], maxNewTokens: number, sampling: SamplingSettings = GREEDY, random?: () => number) => {
    const out: number[] = [];
    await decoder.generate({ promptIds: prompt(messages).ids, maxNewTokens, sampling, eosTokenIds: eos, onToken: (id) => out.push(id), shouldStop: () => false, random });
    return out;
  };
  const viaGenerate = async (messages: Message[], config: Record<string, unknown>) => {
    const { inputs, ids } = prompt(messages);
    const out = (await model.generate({ ...inputs, ...config } as never)) as unknown as { tolist(): (number | bigint)[][] };
    return (out.tolist()[0] ?? []).map(Number).slice(ids.length);
  };
  return { model, decoder, eos, viaLoop, viaGenerate };
}

describe.each(MODELS)('KV decode loop, %s', (name) => {
  const parity = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, name, 'parity.json'), 'utf8')) as Parity;

  it('fp32 greedy reproduces parity.json exactly, end-of-sequence included', async () => {
    const { model, decoder, viaLoop } = await load(name, 'fp32');
    expect(decoder.layout.layers).toBeGreaterThan(0);
    for (const c of parity.cases) expect(await viaLoop(c.messages, parity.max_new_tokens), JSON.stringify(c.messages)).toEqual(c.output_ids);
    await model.dispose();
  });

  it.each(['q8', 'q4'] as const)('%s greedy matches transformers.js generate() on every parity prompt', async (dtype) => {
    const { model, viaLoop, viaGenerate } = await load(name, dtype);
    for (const c of parity.cases) {
      expect(await viaLoop(c.messages, parity.max_new_tokens)).toEqual(await viaGenerate(c.messages, { max_new_tokens: parity.max_new_tokens, do_sample: false }));
    }
    await model.dispose();
  });
});

describe('KV decode loop settings, slm-pocket', () => {
  it('repetition penalty and min_new_tokens match transformers.js generate()', async () => {
    const { model, viaLoop, viaGenerate } = await load('slm-pocket', 'fp32');
    const parity = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'slm-pocket', 'parity.json'), 'utf8')) as Parity;
    let differs = 0;
    for (const c of parity.cases.slice(0, 6)) {
      const plain = await viaLoop(c.messages, 40);
      const penalised = await viaLoop(c.messages, 40, { ...GREEDY, repetitionPenalty: 1.8, minNewTokens: 30 });
      expect(penalised).toEqual(await viaGenerate(c.messages, { max_new_tokens: 40, do_sample: false, repetition_penalty: 1.8, min_new_tokens: 30 }));
      expect(penalised.length).toBeGreaterThanOrEqual(30);
      if (JSON.stringify(plain) !== JSON.stringify(penalised)) differs++;
    }
    // The settings did change the output, so the equality above compared something.
    expect(differs).toBeGreaterThan(0);
    await model.dispose();
  });

  it('sampling: top-k 1 is greedy; a seeded draw stays within the vocabulary and stops at max_new_tokens', async () => {
    const { model, decoder, viaLoop } = await load('slm-pocket', 'fp32');
    const messages = [{ role: 'user', content: 'What is the capital of France?' }];
    const greedy = await viaLoop(messages, 24);
    expect(await viaLoop(messages, 24, { ...GREEDY, doSample: true, temperature: 1.5, topK: 1 })).toEqual(greedy);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const sampled = await viaLoop(messages, 24, { ...GREEDY, doSample: true, temperature: 2, topK: 0, topP: 1, minNewTokens: 24 }, random);
    expect(sampled).toHaveLength(24);
    for (const id of sampled) expect(id >= 0 && id < decoder.layout.vocab).toBe(true);
    await model.dispose();
  });
});
