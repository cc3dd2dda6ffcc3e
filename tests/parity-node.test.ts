// @vitest-environment node
// transformers.js (Node, onnxruntime-node CPU) reproduces the training framework exactly:
// parity.json holds, per prompt, the chat-template input ids and the greedy output ids computed with torch and the
// Python tokenizer at build time (tools/slm/export.py). Offline; nothing is trained here.
import fs from 'node:fs';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';

const MODELS_DIR = path.resolve('public/models');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR + '/';

interface Message { role: string; content: string }
interface ParityCase { messages: Message[]; input_ids: number[]; output_ids: number[]; text: string }
interface Parity { model: string; max_new_tokens: number; cases: ParityCase[] }

const MODELS = ['slm-pocket', 'slm-reference'].filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'parity.json')));

interface Generated { input_ids: number[]; output_ids: number[] }

async function load(name: string, dtype: 'fp32' | 'q8' | 'q4') {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu' });
  const generate = async (messages: Message[], maxNewTokens: number): Promise<Generated> => {
    const inputs = tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true }) as unknown as {
      input_ids: { dims: number[] };
      attention_mask: unknown;
    };
    const out = (await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false } as never)) as unknown as {
      tolist(): (number | bigint)[][];
    };
    const ids = (out.tolist()[0] ?? []).map(Number);
    const n = inputs.input_ids.dims[1] ?? 0;
    return { input_ids: ids.slice(0, n), output_ids: ids.slice(n) };
  };
  return { tokenizer, model, generate };
}

describe('parity with the training framework', () => {
  it('has parity data for the pocket model', () => {
    expect(MODELS).toContain('slm-pocket');
  });

  describe.each(MODELS)('%s', (name) => {
    const parity = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, name, 'parity.json'), 'utf8')) as Parity;

    it('fp32 greedy decoding reproduces parity.json input and output ids exactly', async () => {
      const { generate, model, tokenizer } = await load(name, 'fp32');
      for (const c of parity.cases) {
        const r = await generate(c.messages, parity.max_new_tokens);
        expect(r.input_ids, JSON.stringify(c.messages)).toEqual(c.input_ids);
        expect(r.output_ids, JSON.stringify(c.messages)).toEqual(c.output_ids);
        const text = tokenizer.decode(r.output_ids, { skip_special_tokens: true });
        expect(text).toBe(c.text);
      }
      await model.dispose();
    });

    it.each(['q8', 'q4'] as const)('%s loads and generates', async (dtype) => {
      const { generate, model, tokenizer } = await load(name, dtype);
      const first = parity.cases[0];
      expect(first).toBeDefined();
      const r = await generate(first!.messages, parity.max_new_tokens);
      expect(r.input_ids).toEqual(first!.input_ids);
      expect(r.output_ids.length).toBeGreaterThan(0);
      expect(tokenizer.decode(r.output_ids, { skip_special_tokens: true }).length).toBeGreaterThan(0);
      await model.dispose();
    });
  });
});
