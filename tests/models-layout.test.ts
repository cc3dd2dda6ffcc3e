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

  type Card = {
    architecture: { params: number };
    skills: { stated: string[]; mastered: string[]; weak: string[]; stated_min_fp32: number };
    evaluation: { node: Record<string, { per_family: Record<string, { accuracy: number }>; overall: { accuracy: number } }> };
  };
  const card = (n: string) => readJson(path.join(MODELS_DIR, n, 'card.json')) as Card;
  const minOverDtypes = (c: Card, family: string) =>
    Math.min(...['fp32', 'q8', 'q4'].map((d) => c.evaluation.node[d]?.per_family[family]?.accuracy ?? 0));
  // Chat (10 held-out phrasings × 5) is among the stated families with no exception: since the compositional chat
  // generator (tools/slm/chatgen.py) both models answer every held-out chat item in fp32, q8 and q4 (pocket was at
  // 88/80/90%, the reference at 70%).

  it('the cards state each model\'s skills, and their held-out tables back them', () => {
    for (const n of ['slm-pocket', 'slm-reference']) {
      const c = card(n);
      const families = Object.keys(c.evaluation.node.fp32!.per_family);
      expect([...c.skills.mastered].sort(), n).toEqual(families.filter((f) => minOverDtypes(c, f) >= 0.9).sort());
      expect([...c.skills.weak].sort(), n).toEqual(families.filter((f) => minOverDtypes(c, f) < 0.9).sort());
      expect(c.skills.stated_min_fp32, n).toBe(Math.min(...c.skills.stated.map((f) => c.evaluation.node.fp32!.per_family[f]!.accuracy)));
    }
    expect(card('slm-pocket').skills.stated).toEqual(
      // arith1: one-digit operands ("What is 12+7?"), what a visitor types first; both models got it wrong before it was a family.
      expect.arrayContaining(['capital', 'json', 'first_letter', 'upper', 'length', 'add2', 'sub2', 'arith1', 'compare', 'chat']),
    );
  });

  it('pocket masters its stated families (>= 90% held-out in fp32, q8 and q4)', () => {
    const c = card('slm-pocket');
    for (const f of c.skills.stated) expect(minOverDtypes(c, f), f).toBeGreaterThanOrEqual(0.9);
  });

  it('the reference model is the bigger one: >= 95% on pocket\'s stated families and >= 80% on every other', () => {
    const p = card('slm-pocket');
    const r = card('slm-reference');
    expect(r.architecture.params).toBeGreaterThan(p.architecture.params);
    for (const f of Object.keys(r.evaluation.node.fp32!.per_family)) {
      expect(minOverDtypes(r, f), f).toBeGreaterThanOrEqual(p.skills.stated.includes(f) ? 0.95 : 0.8);
    }
    for (const d of ['fp32', 'q8', 'q4']) expect(r.evaluation.node[d]!.overall.accuracy, d).toBeGreaterThanOrEqual(0.9);
  });

  // The deliberate split (issue 18): pocket never saw add3, mul, reverse and sort3 in training (cards: 0% in every
  // dtype), the reference learned them (mul 92/88/90% in fp32/q8/q4, the other three 100%).
  const POCKET_UNTRAINED = ['add3', 'mul', 'reverse', 'sort3'];
  it('the reference beats pocket by a wide margin on the families pocket does not master', () => {
    const p = card('slm-pocket');
    const r = card('slm-reference');
    expect(p.skills.weak).toEqual(expect.arrayContaining(POCKET_UNTRAINED));
    for (const f of POCKET_UNTRAINED) {
      expect(p.skills.stated, f).not.toContain(f);
      for (const d of ['fp32', 'q8', 'q4']) {
        const pa = p.evaluation.node[d]!.per_family[f]!.accuracy;
        const ra = r.evaluation.node[d]!.per_family[f]!.accuracy;
        expect(pa, `pocket ${f} ${d}`).toBeLessThanOrEqual(0.2);
        expect(ra, `reference ${f} ${d}`).toBeGreaterThanOrEqual(0.8);
        expect(ra - pa, `${f} ${d}`).toBeGreaterThanOrEqual(0.6);
      }
    }
    for (const d of ['fp32', 'q8', 'q4']) {
      expect(r.evaluation.node[d]!.overall.accuracy - p.evaluation.node[d]!.overall.accuracy, d).toBeGreaterThanOrEqual(0.2);
    }
  });
});
