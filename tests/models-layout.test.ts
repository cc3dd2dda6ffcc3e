// @vitest-environment node
// Layout of the embedded models (public/models/*): files, config fields, ONNX I/O names and dynamic dims, size budgets.
// Offline, no retraining; the ONNX files are opened with onnxruntime-node.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const MODELS_DIR = path.resolve('public/models');
const EXPECTED = ['slm-pocket', 'slm-reference'];
const REQUIRED_FILES = [
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx',
  'card.json', 'README.md', 'parity.json', 'examples.json',
];
const ONNX_FILES = ['onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx'];
const MB = 1024 * 1024;

type Json = Record<string, unknown>;
const readJson = (p: string): Json => JSON.parse(fs.readFileSync(p, 'utf8')) as Json;

function dirSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

const modelDirs = fs.existsSync(MODELS_DIR)
  ? fs.readdirSync(MODELS_DIR).filter((d) => fs.existsSync(path.join(MODELS_DIR, d, 'config.json')))
  : [];

describe('embedded models', () => {
  it('ships the pocket and reference models', () => {
    for (const m of EXPECTED) expect(modelDirs).toContain(m);
  });

  it('stays within the size budget (pocket fp32 < 5 MB, everything < 50 MB)', () => {
    expect(fs.statSync(path.join(MODELS_DIR, 'slm-pocket', 'onnx/model.onnx')).size).toBeLessThan(5 * MB);
    expect(dirSize(MODELS_DIR)).toBeLessThan(50 * MB);
  });

  describe.each(modelDirs)('%s', (name) => {
    const dir = path.join(MODELS_DIR, name);

    it('has every required file', () => {
      for (const f of REQUIRED_FILES) expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    });

    it('has a llama config that transformers.js can map', () => {
      const c = readJson(path.join(dir, 'config.json'));
      expect(c.model_type).toBe('llama');
      expect(c.architectures).toEqual(['LlamaForCausalLM']);
      expect(c.torch_dtype).toBe('float32');
      for (const k of ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
        'num_key_value_heads', 'head_dim', 'vocab_size', 'max_position_embeddings', 'bos_token_id', 'eos_token_id',
        'pad_token_id']) {
        expect(typeof c[k], k).toBe('number');
      }
      expect(typeof c.rms_norm_eps).toBe('number');
      expect(typeof c.rope_theta).toBe('number');
      expect(typeof c.tie_word_embeddings).toBe('boolean');
      expect((c.head_dim as number) * (c.num_attention_heads as number)).toBe(c.hidden_size);
      expect(c.num_key_value_heads as number).toBeLessThan(c.num_attention_heads as number);
      expect((c.num_attention_heads as number) % (c.num_key_value_heads as number)).toBe(0);
    });

    it('has a ChatML tokenizer whose special tokens agree with the config', () => {
      const c = readJson(path.join(dir, 'config.json'));
      const tc = readJson(path.join(dir, 'tokenizer_config.json'));
      const tj = readJson(path.join(dir, 'tokenizer.json')) as {
        added_tokens: { id: number; content: string; special: boolean }[];
        model: { type: string; vocab: Record<string, number>; merges: unknown[] };
      };
      expect(tc.eos_token).toBe('<|im_end|>');
      expect(typeof tc.chat_template).toBe('string');
      expect(tc.chat_template).toContain("'<|im_start|>' + message['role'] + '\\n'");
      expect(tc.chat_template).toContain('add_generation_prompt');
      expect(tc.clean_up_tokenization_spaces).toBe(false);
      expect(tj.model.type).toBe('BPE');
      const specials = Object.fromEntries(tj.added_tokens.map((t) => [t.content, t]));
      for (const s of ['<|im_start|>', '<|im_end|>', '<|endoftext|>']) expect(specials[s]?.special, s).toBe(true);
      expect(specials['<|im_end|>']?.id).toBe(c.eos_token_id);
      expect(specials['<|endoftext|>']?.id).toBe(c.pad_token_id);
      const maxId = Math.max(...Object.values(tj.model.vocab), ...tj.added_tokens.map((t) => t.id));
      expect(maxId).toBe((c.vocab_size as number) - 1);
    });

    it.each(ONNX_FILES)('%s has the KV-cache I/O transformers.js feeds (names, dynamic dims)', async (file) => {
      const c = readJson(path.join(dir, 'config.json'));
      const L = c.num_hidden_layers as number;
      const kv = c.num_key_value_heads as number;
      const hd = c.head_dim as number;
      const session = await ort.InferenceSession.create(path.join(dir, file));
      const past: string[] = [];
      const present: string[] = [];
      for (let i = 0; i < L; i++) {
        for (const k of ['key', 'value']) {
          past.push(`past_key_values.${i}.${k}`);
          present.push(`present.${i}.${k}`);
        }
      }
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...past]);
      expect(session.outputNames).toEqual(['logits', ...present]);
      const shapes = (meta: readonly unknown[]) =>
        Object.fromEntries((meta as { name: string; shape?: readonly (string | number)[] }[]).map((m) => [m.name, m.shape]));
      const ins = shapes(session.inputMetadata);
      const outs = shapes(session.outputMetadata);
      expect(ins.input_ids).toEqual(['batch_size', 'sequence_length']);
      expect(ins.attention_mask).toEqual(['batch_size', 'total_sequence_length']);
      expect(ins.position_ids).toEqual(['batch_size', 'sequence_length']);
      for (const p of past) expect(ins[p], p).toEqual(['batch_size', kv, 'past_sequence_length', hd]);
      expect(outs.logits).toEqual(['batch_size', 'sequence_length', c.vocab_size]);
      for (const p of present) expect(outs[p], p).toEqual(['batch_size', kv, 'total_sequence_length', hd]);
      await session.release();
    });

    it('has a model card, parity cases and 8-12 examples', () => {
      const card = readJson(path.join(dir, 'card.json')) as {
        architecture: { params: number };
        files: Record<string, number>;
        evaluation: { node: Record<string, { overall: { accuracy: number } }>; python_fp32: unknown };
      };
      expect(card.architecture.params).toBeGreaterThan(0);
      for (const f of ONNX_FILES) expect(card.files[f], f).toBe(fs.statSync(path.join(dir, f)).size);
      for (const d of ['fp32', 'q8', 'q4']) expect(typeof card.evaluation.node[d]?.overall.accuracy, d).toBe('number');
      expect(card.evaluation.python_fp32).toBeTruthy();
      const parity = readJson(path.join(dir, 'parity.json')) as { cases: unknown[] };
      expect(parity.cases.length).toBeGreaterThanOrEqual(5);
      const ex = readJson(path.join(dir, 'examples.json')) as { examples: { messages: unknown[]; expected: string }[] };
      expect(ex.examples.length).toBeGreaterThanOrEqual(8);
      expect(ex.examples.length).toBeLessThanOrEqual(12);
      for (const e of ex.examples) {
        expect(e.messages.length).toBeGreaterThan(0);
        expect(typeof e.expected).toBe('string');
      }
    });
  });

  it('the reference model is bigger and scores higher on the held-out set than the pocket model', () => {
    const acc = (n: string) => {
      const card = readJson(path.join(MODELS_DIR, n, 'card.json')) as {
        architecture: { params: number };
        evaluation: { node: { fp32: { overall: { accuracy: number } } } };
      };
      return { params: card.architecture.params, acc: card.evaluation.node.fp32.overall.accuracy };
    };
    const p = acc('slm-pocket');
    const r = acc('slm-reference');
    expect(r.params).toBeGreaterThan(p.params);
    expect(r.acc).toBeGreaterThan(p.acc);
  });
});
