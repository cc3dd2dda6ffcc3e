// @vitest-environment node
// Constrained decoding (issue 15) on onnxruntime-node with the embedded models, every dtype: the
// reference server's greedy output for each JSON-extraction case (tests/fixtures) is valid against
// its schema, and token-for-token the core's in Node for the same model, both on the KV loop and on
// transformers.js's generate() with the grammar as a logits processor. A grammar that cannot finish
// within max new tokens ends with finish 'length' and the structure marked incomplete.
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenGenerator } from '../src/inference/core';
import { GrammarCache, vocabFromTokenizerJson } from '../src/inference/grammar';
import { promptIds } from '../src/inference/prompt';
import type { ResponseFormat } from '../src/inference/response-format';
import type { SamplingSettings } from '../src/inference/sampling';
import { GREEDY } from '../src/inference/settings';
import { loadModel } from '../server/start';
import { loadCausalLM, type ChatModel } from '../server/model';
import { loadXGrammarNode } from '../server/xgrammar-node';
import { startTestServer, type TestServer } from './server/helpers';
import { JSON_CASES, matchesSchema } from './constrained-fixtures';

const MODELS_DIR = path.resolve('public/models');
const MODELS = ['slm-pocket', 'slm-reference'] as const;
const DTYPES = ['fp32', 'q8', 'q4'] as const;

async function serverAnswer(s: TestServer, model: string, prompt: string, rf: unknown, maxTokens: number) {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature: 0, response_format: rf }),
  });
  const body: { choices?: { message: { content: string }; finish_reason: string }[]; error?: { message: string } } = await res.json();
  return { status: res.status, text: body.choices?.[0]?.message.content ?? '', finish: body.choices?.[0]?.finish_reason ?? '', error: body.error?.message ?? '' };
}

describe.each(MODELS)('%s', (name) => {
  describe.each(DTYPES)('%s', (dtype) => {
    let chat: ChatModel;
    let server: TestServer;
    let core: (prompt: string, format: ResponseFormat, maxNewTokens: number, loop: 'auto' | 'generate', sampling?: SamplingSettings, seed?: number) => Promise<{ text: string; finish: string; complete: boolean | null }>;
    const disposers: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      chat = await loadModel({ modelsDir: MODELS_DIR, model: name, dtype, threads: 1 }, () => {});
      server = await startTestServer(chat, { dtype });
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = MODELS_DIR + '/';
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      // Loaded as the server loads it (q8: uint8 weights, server/ort-node.ts), so both run the same kernels.
      const { model, int8Weights } = await loadCausalLM(name, dtype, 1);
      expect(int8Weights.map((p) => p.converted), 'MatMulInteger made uint8').toEqual(dtype === 'q8' ? [name === 'slm-pocket' ? 29 : 85] : []);
      const eos = [model.generation_config?.eos_token_id ?? []].flat().map(Number);
      const grammars = new GrammarCache(vocabFromTokenizerJson(tokenizer._tokenizerJSON, { vocabSize: 512, stopTokenIds: eos }), { load: loadXGrammarNode });
      const gens = { auto: new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false }), generate: new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false, loop: 'generate' }) };
      expect(gens.auto.loop).toBe('kv-loop');
      core = async (prompt, format, maxNewTokens, loop, sampling = GREEDY, seed) => {
        const ids = promptIds(tokenizer.apply_chat_template([{ role: 'user', content: prompt }], { add_generation_prompt: true, return_dict: true }));
        const constraint = await grammars.constraint(format);
        const r = await gens[loop].generate(ids, { maxNewTokens, sampling, ...(seed === undefined ? {} : { seed }) }, { onToken: () => {}, shouldStop: () => null }, { constraint });
        constraint?.dispose();
        return { text: tokenizer.decode(r.ids, { skip_special_tokens: true }), finish: r.finishReason, complete: r.grammarComplete };
      };
      disposers.push(async () => {
        grammars.dispose();
        await model.dispose();
      });
    });
    afterAll(async () => {
      await server?.close();
      await chat?.dispose();
      for (const d of disposers) await d();
    });

    it('the server answers every JSON-extraction case with JSON valid against its schema, as the core does on both loops', async () => {
      for (const c of JSON_CASES.cases) {
        const rf = { type: 'json_schema', json_schema: { name: c.id, schema: c.schema, strict: true } };
        const s = await serverAnswer(server, name, c.prompt, rf, JSON_CASES.max_tokens);
        expect(s.status, s.error).toBe(200);
        expect(s.finish, `${c.id}: ${s.text}`).toBe('stop');
        expect(matchesSchema(s.text, c.schema), `${c.id}: ${s.text}`).toEqual({ ok: true });
        const format: ResponseFormat = { type: 'json_schema', name: c.id, schema: c.schema };
        const kv = await core(c.prompt, format, JSON_CASES.max_tokens, 'auto');
        expect(kv, c.id).toEqual({ text: s.text, finish: 'stop', complete: true });
        const hf = await core(c.prompt, format, JSON_CASES.max_tokens, 'generate');
        expect(hf, c.id).toEqual({ text: s.text, finish: 'stop', complete: true });
      }
    });

    it('JSON mode gives a JSON object; running out of tokens gives finish length and an incomplete structure', async () => {
      const prompt = JSON_CASES.cases[0]?.prompt ?? '';
      const s = await serverAnswer(server, name, prompt, { type: 'json_object' }, JSON_CASES.max_tokens);
      expect(s.finish).toBe('stop');
      expect(typeof JSON.parse(s.text)).toBe('object');
      const short = await serverAnswer(server, name, prompt, { type: 'json_object' }, 3);
      expect(short.finish).toBe('length');
      expect(() => JSON.parse(short.text)).toThrow();
      for (const loop of ['auto', 'generate'] as const) {
        expect(await core(prompt, { type: 'json_object' }, 3, loop)).toEqual({ text: short.text, finish: 'length', complete: false });
      }
    });

    it('sampled under the grammar, the unmasked draw kept when allowed (no top-k/top-p) or masked first (top-k, top-p): valid JSON, or cut by length', async () => {
      if (dtype !== 'fp32') return;
      const ways: SamplingSettings[] = [
        { ...GREEDY, doSample: true, temperature: 1.2, topK: 0, topP: 1 },
        { ...GREEDY, doSample: true, temperature: 1.2, topK: 40, topP: 0.9 },
      ];
      for (const sampling of ways) {
        for (const [i, c] of JSON_CASES.cases.entries()) {
          const r = await core(c.prompt, { type: 'json_schema', name: c.id, schema: c.schema }, JSON_CASES.max_tokens, 'auto', sampling, 1000 + i);
          if (r.finish === 'length') expect(r.complete, `${c.id}: ${r.text}`).toBe(false);
          else expect([r.finish, r.complete, matchesSchema(r.text, c.schema)], `${c.id} top-k ${sampling.topK}: ${r.text}`).toEqual(['stop', true, { ok: true }]);
        }
      }
    });

    it('a schema the grammar compiler cannot take is a 400 with its reason, and the server keeps serving', async () => {
      if (dtype !== 'fp32') return;
      const bad = await serverAnswer(server, name, 'x', { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'string', pattern: '(?=a)a' } } }, 8);
      expect(bad.status).toBe(400);
      expect(bad.error).toContain('lookaround');
      const ok = await serverAnswer(server, name, 'x', { type: 'json_object' }, 16);
      expect(ok.status).toBe(200);
    });
  });
});
