/**
 * Constrained decoding (issue 15): what a JSON Schema costs at decode time and at compile time.
 *
 *   constrained_decode_ratio  decode tokens/s with the schema ÷ without, on onnxruntime-node through
 *                             the generation core's KV loop (the loop the browser runs on WASM; the mask
 *                             code is the same JavaScript). Same model, same prompts (the JSON-extraction
 *                             fixture), same run, interleaved pairs: each constrained answer of n tokens
 *                             is paired with a free answer of exactly n tokens (fixed length) for the same
 *                             prompt, order alternating; the ratio is the median over pairs. Per token,
 *                             where the time goes: mask fill (XGrammar), mask apply (logits → −∞), accept,
 *                             and the share of steps that needed a mask. Beside it the same pairs on the
 *                             process's CPU time per token (`cpu_ratio`): on a shared machine wall time
 *                             swings with other load, CPU time far less. Both with p25/p75 and the load.
 *   schema_compile_ms         compiling each fixture schema (and JSON mode) over the embedded tokenizer
 *                             (512 tokens) and over 50k-token vocabularies: the scale models' layout
 *                             (the embedded BPE padded with <unused_N> to 49,152, scripts/models-scale.ts)
 *                             and a natural-text byte-level vocabulary of 50,000 tokens.
 *
 * Run alone: `npm run bench -- --only constrained` (or `tsx scripts/bench/constrained.ts`);
 * --scale-dir DIR: a 135M scale model folder (default: .cache/scale-models/smollm2-135m-*, skipped when absent).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { TokenGenerator } from '../../src/inference/core.ts';
import { GrammarCache, vocabFromTokenizerJson, type GrammarConstraint, type TokenizerVocab } from '../../src/inference/grammar.ts';
import { promptIds } from '../../src/inference/prompt.ts';
import type { ResponseFormat } from '../../src/inference/response-format.ts';
import { GREEDY, type DecodeSettings } from '../../src/inference/settings.ts';
import { median } from '../../src/metrics/stats.ts';
import { loadXGrammarNode } from '../../server/xgrammar-node.ts';

const { AutoModelForCausalLM, AutoTokenizer, env } = transformers;
env.allowRemoteModels = false;

interface Case { id: string; prompt: string; schema: Record<string, unknown> }
const FIXTURE: { max_tokens: number; cases: Case[] } = JSON.parse(fs.readFileSync('tests/fixtures/json-extraction.json', 'utf8'));
const r2 = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
const tps = (t: number[]) => (t.length < 2 ? NaN : ((t.length - 1) * 1000) / ((t.at(-1) ?? 0) - (t[0] ?? 0)));

export interface DecodeRatio {
  model: string;
  dtype: string;
  ratio: number | null;
  /** The pairs' ratios: 25th and 75th percentiles (the spread around the median). */
  ratio_p25: number | null;
  ratio_p75: number | null;
  /** The same pairs on the process's CPU time per token (less sensitive to other load): median, p25, p75. */
  cpu_ratio: number | null;
  cpu_ratio_p25: number | null;
  cpu_ratio_p75: number | null;
  constrained_tps: number | null;
  free_tps: number | null;
  pairs: number;
  /** Per constrained token, µs: XGrammar's mask, applying it to the logits, accepting the token; and the whole step. */
  /** Share of constrained steps whose mask was filled (the rest kept the unmasked argmax). */
  masked_steps: number | null;
  mask_fill_us: number | null;
  mask_apply_us: number | null;
  accept_us: number | null;
  step_us: number | null;
  /** The machine's 1-minute load average at the start and end of the measurement. */
  load: [number, number];
}

const quantile = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const at = p * (s.length - 1);
  const lo = Math.floor(at);
  return (s[lo] ?? 0) + ((s[Math.ceil(at)] ?? 0) - (s[lo] ?? 0)) * (at - lo);
};

/** Interleaved constrained / free pairs on one model (see the header). */
export async function decodeRatio(opts: { modelsDir: string; model: string; dtype: 'fp32' | 'q8' | 'q4'; threads?: number; repeats?: number; warmup?: boolean; cases?: number; log?: (s: string) => void }): Promise<DecodeRatio> {
  env.localModelPath = path.resolve(opts.modelsDir) + '/';
  const tokenizer = await AutoTokenizer.from_pretrained(opts.model);
  const model = await AutoModelForCausalLM.from_pretrained(opts.model, { dtype: opts.dtype, device: 'cpu', session_options: { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1 } });
  const config = JSON.parse(fs.readFileSync(path.join(opts.modelsDir, opts.model, 'config.json'), 'utf8'));
  const eos = [model.generation_config?.eos_token_id ?? config.eos_token_id].flat().map(Number);
  const gen = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: eos, pooled: false });
  const grammars = new GrammarCache(vocabFromTokenizerJson(tokenizer._tokenizerJSON, { vocabSize: config.vocab_size, stopTokenIds: eos }), { load: loadXGrammarNode });
  const run = async (ids: number[], settings: DecodeSettings, constraint: GrammarConstraint | null) => {
    const times: number[] = [];
    // The process's CPU time between the first and the last token too: other tenants of the
    // machine stretch wall time (the ratio swung 0.3-1.4 within one run at load 14), much less the
    // CPU time this process itself spends per token (onnxruntime-node's threads included).
    let cpu0 = 0;
    let cpu1 = 0;
    const onToken = () => {
      const c = process.cpuUsage();
      cpu1 = c.user + c.system;
      if (times.length === 0) cpu0 = cpu1;
      times.push(performance.now());
    };
    const r = await gen.generate(ids, settings, { onToken, shouldStop: () => null }, { constraint, reuse: false });
    return { n: r.ids.length + (r.finishReason === 'stop' ? 1 : 0), tps: tps(times), cpuTps: cpu1 > cpu0 ? ((times.length - 1) * 1e6) / (cpu1 - cpu0) : NaN };
  };
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const ctps: number[] = [];
  const ftps: number[] = [];
  const cost = { fill: 0, apply: 0, accept: 0, fills: 0, tokens: 0, ms: 0 };
  const load0 = os.loadavg()[0] ?? 0;
  const repeats = opts.repeats ?? 3;
  const cases = FIXTURE.cases.slice(0, opts.cases ?? FIXTURE.cases.length);
  for (let rep = opts.warmup === false ? 0 : -1; rep < repeats; rep++) {
    for (const c of cases) {
      const ids = promptIds(tokenizer.apply_chat_template([{ role: 'user', content: c.prompt }], { add_generation_prompt: true, return_dict: true }));
      const format: ResponseFormat = { type: 'json_schema', name: c.id, schema: c.schema };
      const constrained = async () => {
        const k = await grammars.constraint(format);
        const t0 = performance.now();
        const r = await run(ids, { maxNewTokens: FIXTURE.max_tokens, sampling: GREEDY }, k);
        if (k && rep >= 0) {
          cost.fill += k.time.fill;
          cost.apply += k.time.apply;
          cost.accept += k.time.accept;
          cost.fills += k.time.fills;
          cost.tokens += r.n;
          cost.ms += performance.now() - t0;
        }
        k?.dispose();
        return r;
      };
      const free = (n: number) => run(ids, { maxNewTokens: n, sampling: { ...GREEDY, minNewTokens: n } }, null);
      // Alternate which goes first, so drift (heat, other load) hits both sides alike.
      let a: { n: number; tps: number; cpuTps: number };
      let b: { n: number; tps: number; cpuTps: number };
      if ((rep + FIXTURE.cases.indexOf(c)) % 2 === 0) {
        a = await constrained();
        b = await free(a.n);
      } else {
        const probe = await constrained(); // its length fixes the free run's; measured again below
        b = await free(probe.n);
        a = await constrained();
      }
      if (rep < 0 || !(a.tps > 0) || !(b.tps > 0)) continue; // rep -1: warm-up (compiles every schema once)
      ratios.push(a.tps / b.tps);
      if (a.cpuTps > 0 && b.cpuTps > 0) cpuRatios.push(a.cpuTps / b.cpuTps);
      ctps.push(a.tps);
      ftps.push(b.tps);
    }
    opts.log?.(`${opts.model} ${opts.dtype}: pass ${rep + 1}/${repeats + 1}`);
  }
  grammars.dispose();
  await model.dispose();
  const us = (x: number) => (cost.tokens ? r2((x * 1000) / cost.tokens) : null);
  return {
    model: opts.model,
    dtype: opts.dtype,
    ratio: r2(median(ratios)),
    ratio_p25: r2(quantile(ratios, 0.25)),
    ratio_p75: r2(quantile(ratios, 0.75)),
    cpu_ratio: r2(median(cpuRatios)),
    cpu_ratio_p25: r2(quantile(cpuRatios, 0.25)),
    cpu_ratio_p75: r2(quantile(cpuRatios, 0.75)),
    constrained_tps: r2(median(ctps)),
    free_tps: r2(median(ftps)),
    pairs: ratios.length,
    masked_steps: cost.tokens ? r2(cost.fills / cost.tokens) : null,
    mask_fill_us: us(cost.fill),
    mask_apply_us: us(cost.apply),
    accept_us: us(cost.accept),
    step_us: us(cost.ms),
    load: [r2(load0) ?? 0, r2(os.loadavg()[0] ?? 0) ?? 0],
  };
}

/** The embedded BPE padded to 49,152 tokens, as tools/slm/scale.py writes the scale models' tokenizer. */
function paddedVocab(base: unknown, size: number): TokenizerVocab {
  const v = vocabFromTokenizerJson(base, { vocabSize: null, stopTokenIds: [511] });
  const tokens = [...v.tokens];
  for (let i = tokens.length; i < size; i++) tokens.push(`<unused_${i}>`);
  return { ...v, tokens, vocabSize: size };
}

/** 50,000 byte-level tokens from natural text (the TypeScript library's declarations and docs): bytes, then words and word pieces by frequency, with and without a leading space ("Ġ"). */
function naturalVocab(size: number): TokenizerVocab {
  const byteChars: string[] = [];
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  let n = 0;
  const map = new Map<number, string>();
  for (const b of bs) map.set(b, String.fromCharCode(b));
  for (let b = 0; b < 256; b++) if (!map.has(b)) map.set(b, String.fromCharCode(256 + n++));
  for (let b = 0; b < 256; b++) byteChars.push(map.get(b) ?? '');
  const enc = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => byteChars[b]).join('');
  const counts = new Map<string, number>();
  const dir = 'node_modules/typescript/lib';
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.d.ts'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/ ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]{1,3}/g)) {
      const w = m[0];
      counts.set(w, (counts.get(w) ?? 0) + 1);
      for (let k = 2; k < w.length - 1; k++) counts.set(w.slice(0, k), (counts.get(w.slice(0, k)) ?? 0) + 1);
    }
  }
  const tokens = [...byteChars];
  const seen = new Set(tokens);
  for (const [w] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
    if (tokens.length >= size - 1) break;
    const t = enc(w);
    if (!seen.has(t)) (seen.add(t), tokens.push(t));
  }
  tokens.push('<|endoftext|>');
  return { tokens, vocabType: 'byte_level', prependSpace: false, vocabSize: tokens.length, stopTokenIds: [tokens.length - 1] };
}

export interface CompileTimes {
  vocab: string;
  tokens: number;
  /** TokenizerInfo + compiler creation with a trivial grammar, once per tokenizer. */
  tokenizer_ms: number | null;
  /** Per schema (json_object and each fixture case), its first compile; then their median. */
  schemas: Record<string, number | null>;
  median_ms: number | null;
  /** A second request with the same schema (a cache hit: only a matcher is made). */
  cached_ms: number | null;
}

export async function compileTimes(label: string, vocab: TokenizerVocab): Promise<CompileTimes> {
  await loadXGrammarNode();
  const cache = new GrammarCache(vocab, { load: loadXGrammarNode });
  // The tokenizer's tables (TokenizerInfo, compiler) with a trivial grammar: once per tokenizer.
  let t0 = performance.now();
  await cache.compile({ type: 'json_schema', name: 'setup', schema: { type: 'boolean' } });
  const tokenizerMs = performance.now() - t0;
  const schemas: Record<string, number | null> = {};
  const formats: [string, Exclude<ResponseFormat, { type: 'text' }>][] = [['json_object', { type: 'json_object' }], ...FIXTURE.cases.map((c): [string, Exclude<ResponseFormat, { type: 'text' }>] => [c.id, { type: 'json_schema', name: c.id, schema: c.schema }])];
  const seen = new Set<string>();
  for (const [id, f] of formats) {
    // A schema met before is a cache hit, not a compilation (the fixture repeats the person schema).
    const key = f.type === 'json_schema' ? JSON.stringify(f.schema) : f.type;
    if (seen.has(key)) continue;
    seen.add(key);
    t0 = performance.now();
    await cache.compile(f);
    schemas[id] = r2(performance.now() - t0);
  }
  const f0 = formats[1]?.[1];
  t0 = performance.now();
  if (f0) (await cache.constraint(f0))?.dispose();
  const cached = performance.now() - t0;
  cache.dispose();
  const values = Object.values(schemas).filter((x): x is number => x !== null);
  return { vocab: label, tokens: vocab.tokens.length, tokenizer_ms: r2(tokenizerMs), schemas, median_ms: r2(median(values)), cached_ms: r2(cached) };
}

function scaleDir(arg: string | undefined): string | null {
  if (arg) return fs.existsSync(path.join(arg, 'onnx')) ? arg : null;
  const root = '.cache/scale-models';
  if (!fs.existsSync(root)) return null;
  const hit = fs.readdirSync(root).find((d) => d.startsWith('smollm2-135m-') && fs.existsSync(path.join(root, d, 'onnx', 'model.onnx')));
  return hit ? path.join(root, hit) : null;
}

/** Everything above; the fields the benchmark's last line carries. */
export async function measureConstrained(opts: { scaleDir?: string; noEmbedded?: boolean; log?: (s: string) => void } = {}) {
  const log = opts.log ?? (() => {});
  const tokenizerJson: unknown = JSON.parse(fs.readFileSync('public/models/slm-pocket/tokenizer.json', 'utf8'));
  log('constrained: schema compile times…');
  const compile = opts.noEmbedded ? [] : [
    await compileTimes('embedded (512)', vocabFromTokenizerJson(tokenizerJson, { vocabSize: 512, stopTokenIds: [511] })),
    await compileTimes('scale layout (49,152, padded)', paddedVocab(tokenizerJson, 49_152)),
    await compileTimes('natural byte-level (50,000)', naturalVocab(50_000)),
  ];
  log('constrained: decode ratio, slm-pocket fp32…');
  // 6 passes × 8 cases = 48 pairs (a pass takes ~1 s here): a tighter median on a shared machine.
  const embedded = opts.noEmbedded ? null : await decodeRatio({ modelsDir: 'public/models', model: 'slm-pocket', dtype: 'fp32', repeats: 6, log });
  const dir = scaleDir(opts.scaleDir);
  let scale: DecodeRatio | null = null;
  if (dir) {
    log(`constrained: decode ratio, ${dir} q8…`);
    // Fewer pairs than the embedded model's (a 30-layer model decodes ~30-120 tokens/s on this
    // machine): every case once, no warm-up pass (compilation happens before each timed run and is
    // not in its token times). 4 pairs (the earlier setting) spread 0.89-1.05 between runs.
    scale = await decodeRatio({ modelsDir: path.dirname(dir), model: path.basename(dir), dtype: 'q8', repeats: 1, warmup: false, threads: 2, log });
  } else log('constrained: no 135M scale model in .cache/scale-models (npm run models:scale); its ratio is skipped');
  return {
    constrained_decode_ratio: embedded?.ratio ?? null,
    constrained_decode_ratio_135m: scale?.ratio ?? null,
    schema_compile_ms: Object.fromEntries(compile.map((c) => [c.vocab, c.median_ms])),
    constrained: { decode: [...(embedded ? [embedded] : []), ...(scale ? [scale] : [])], compile },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--scale-dir');
  const out = await measureConstrained({ ...(i > 0 && process.argv[i + 1] ? { scaleDir: process.argv[i + 1] } : {}), noEmbedded: process.argv.includes('--no-embedded'), log: (s) => console.error('[bench]', s) });
  console.log(JSON.stringify(out));
}
