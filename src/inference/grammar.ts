/**
 * Constrained decoding: a response format (response-format.ts) → a compiled XGrammar grammar over
 * the model's vocabulary → one matcher per generation that masks, at every step, the tokens the
 * grammar forbids (before sampling, greedy or not) and accepts each chosen token; generation ends
 * when the grammar is complete (the matcher then allows only end-of-sequence).
 *
 * Why XGrammar (@mlc-ai/web-xgrammar, xgrammar.ts): a kept engine built for this, the one WebLLM
 * uses; it precomputes per-grammar token tables from any tokenizer's vocabulary, so a step's mask
 * costs little beside the model's run (bench: constrained_decode_ratio).
 *
 * Grammars are compiled once per (tokenizer, format) and cached (`GrammarCache`), in the worker or
 * the server, never on the page. JSON is asked for on one line with ", " and ": " separators (no
 * free whitespace: a small model could otherwise emit blanks until max new tokens).
 */
import { isConstrained, type ResponseFormat } from './response-format';
import type { StepConstraint } from './sampling';
import type { XCompiledGrammar, XGrammarLib, XGrammarMatcher, XTokenizerInfo } from './xgrammar';
import { errorText } from '../lib/errors';

/** A tokenizer's vocabulary as XGrammar reads it. */
export interface TokenizerVocab {
  /** Token strings by id, in the tokenizer's own encoding (byte-level: "Ġ" for a space). Missing ids: ''. */
  tokens: string[];
  /** How token strings map to bytes: GPT-2 byte-level, SentencePiece byte fallback, or raw text. */
  vocabType: 'byte_level' | 'byte_fallback' | 'raw';
  /** Whether the tokenizer puts a space before the text (SentencePiece "▁" prefix). */
  prependSpace: boolean;
  /** The model's logits size: may exceed `tokens.length` (padded vocabularies). */
  vocabSize: number;
  /** End-of-sequence ids: the grammar allows them only once the structure is complete. */
  stopTokenIds: number[];
}

type Json = Record<string, unknown>;
const obj = (x: unknown): Json | null => (typeof x === 'object' && x !== null && !Array.isArray(x) ? { ...x } : null);

/** The decoder's kind, as xgrammar's Python TokenizerInfo.from_huggingface detects it. */
function detectType(decoder: Json | null): Pick<TokenizerVocab, 'vocabType' | 'prependSpace'> {
  const parts = decoder?.['type'] === 'Sequence' && Array.isArray(decoder['decoders']) ? decoder['decoders'].map(obj) : [decoder];
  const types = parts.map((d) => d?.['type']);
  if (types.includes('ByteLevel')) return { vocabType: 'byte_level', prependSpace: false };
  if (types.includes('ByteFallback')) {
    // SentencePiece: "▁" stands for a space; a Strip of one leading space means it prepended one.
    const strip = parts.find((d) => d?.['type'] === 'Strip');
    return { vocabType: 'byte_fallback', prependSpace: strip !== undefined && Number(strip?.['start'] ?? 0) > 0 };
  }
  return { vocabType: 'raw', prependSpace: false };
}

/**
 * The vocabulary of a Hugging Face tokenizer.json (BPE/WordPiece maps and Unigram lists, plus the
 * added tokens), for a model whose logits have `vocabSize` entries (default: the tokenizer's size).
 */
export function vocabFromTokenizerJson(json: unknown, opts: { vocabSize?: number | null; stopTokenIds: readonly number[] }): TokenizerVocab {
  const root = obj(json);
  const model = obj(root?.['model']);
  if (!root || !model) throw new Error('tokenizer.json has no model section.');
  const tokens: string[] = [];
  const raw = model['vocab'];
  if (Array.isArray(raw)) {
    raw.forEach((entry, i) => (tokens[i] = Array.isArray(entry) ? String(entry[0]) : String(entry)));
  } else {
    const map = obj(raw);
    if (!map) throw new Error('tokenizer.json has no vocabulary.');
    for (const [t, id] of Object.entries(map)) if (typeof id === 'number') tokens[id] = t;
  }
  for (const a of Array.isArray(root['added_tokens']) ? root['added_tokens'] : []) {
    const added = obj(a);
    if (added && typeof added['id'] === 'number' && typeof added['content'] === 'string') tokens[added['id']] = added['content'];
  }
  for (let i = 0; i < tokens.length; i++) tokens[i] ??= '';
  const vocabSize = Math.max(opts.vocabSize ?? 0, tokens.length);
  return { tokens, ...detectType(obj(root['decoder'])), vocabSize, stopTokenIds: [...opts.stopTokenIds] };
}

/** A short fingerprint of a vocabulary (FNV-1a over its tokens and settings): the cache's tokenizer key. */
export function vocabKey(v: TokenizerVocab): string {
  let h = 0x811c9dc5;
  const add = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  };
  for (const t of v.tokens) add(t);
  add(`${v.vocabType}|${v.prependSpace}|${v.vocabSize}|${v.stopTokenIds.join(',')}`);
  return `${v.tokens.length}-${(h >>> 0).toString(16)}`;
}

/** The cache key of a format: its type and the schema text. */
export function formatKey(f: ResponseFormat): string {
  return f.type === 'json_schema' ? `json_schema:${JSON.stringify(f.schema)}` : f.type;
}

/** A grammar the compiler refused, or an engine that stopped: one sentence for the user. */
export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** The separators JSON is generated with (one line, as Python's json.dumps writes it). */
const SEPARATORS: [string, string] = [', ', ': '];

export interface GrammarCacheStats {
  compiles: number;
  hits: number;
  /** The last compilation's time, ms (null before any). */
  lastCompileMs: number | null;
}

interface Engine {
  lib: XGrammarLib;
  info: XTokenizerInfo;
  compiler: Awaited<ReturnType<XGrammarLib['GrammarCompiler']['createGrammarCompiler']>>;
}

export interface GrammarCacheOptions {
  /** Loads XGrammar (lazily, on the first constrained generation). */
  load: () => Promise<XGrammarLib>;
  /** A fresh engine after one stopped (Node can; the browser's module cannot be reloaded). */
  reload?: () => Promise<XGrammarLib>;
  /** Compiled grammars kept (least recently used out first). */
  maxEntries?: number;
}

/**
 * The compiled grammars of one tokenizer, keyed by format (schema text). Compiling a JSON Schema
 * over a vocabulary builds its token tables (tens to hundreds of ms on a 50k vocabulary, bench:
 * schema_compile_ms); every later generation with the same schema only creates a matcher.
 */
export class GrammarCache {
  readonly key: string;
  private engine: Promise<Engine> | null = null;
  private readonly compiled = new Map<string, Promise<XCompiledGrammar>>();
  private readonly counts: GrammarCacheStats = { compiles: 0, hits: 0, lastCompileMs: null };
  private stopped: string | null = null;

  constructor(
    readonly vocab: TokenizerVocab,
    private readonly opts: GrammarCacheOptions,
  ) {
    this.key = vocabKey(vocab);
  }

  stats(): GrammarCacheStats {
    return { ...this.counts };
  }

  private start(load: () => Promise<XGrammarLib>): Promise<Engine> {
    const v = this.vocab;
    const p = (async () => {
      const lib = await load();
      const info = await lib.TokenizerInfo.createTokenizerInfo(v.tokens, v.vocabType, v.prependSpace, v.vocabSize, v.stopTokenIds);
      const compiler = await lib.GrammarCompiler.createGrammarCompiler(info, false);
      return { lib, info, compiler };
    })();
    p.catch(() => (this.engine = null));
    return p;
  }

  /** The compiled grammar for `format` (JSON object or JSON Schema), from the cache when it is there. */
  async compile(format: Exclude<ResponseFormat, { type: 'text' }>): Promise<{ grammar: XCompiledGrammar; lib: XGrammarLib; cached: boolean }> {
    if (this.stopped) {
      if (!this.opts.reload) throw new GrammarError(this.stopped);
      this.stopped = null;
      this.compiled.clear();
      this.engine = this.start(this.opts.reload);
    }
    this.engine ??= this.start(this.opts.load);
    const engine = await this.engine;
    const key = formatKey(format);
    const hit = this.compiled.get(key);
    if (hit) {
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      this.counts.hits++;
      return { grammar: await hit, lib: engine.lib, cached: true };
    }
    const t0 = performance.now();
    // JSON mode means a JSON object (OpenAI's json_object), not any JSON value: XGrammar's built-in
    // JSON grammar also allows a top-level array. Non-strict, so the object may have any properties.
    const job = format.type === 'json_schema'
      ? engine.compiler.compileJSONSchema(JSON.stringify(format.schema), false, -1, SEPARATORS, true)
      : engine.compiler.compileJSONSchema('{"type":"object"}', false, -1, SEPARATORS, false);
    this.compiled.set(key, job);
    let grammar: XCompiledGrammar;
    try {
      grammar = await job;
    } catch (e) {
      this.compiled.delete(key);
      // The WebAssembly build aborts on a schema its checks refuse (the reason goes to the console):
      // the module is unusable afterwards.
      const text = errorText(e);
      if (/abort/i.test(text)) {
        this.stopped = 'The grammar engine stopped on an earlier schema; reload the model to use JSON output again.';
        this.engine = null;
        throw new GrammarError(`The JSON Schema could not be compiled into a grammar (check its ranges, patterns and $ref targets): ${text}`);
      }
      throw new GrammarError(`The JSON Schema could not be compiled into a grammar: ${text}`);
    }
    this.counts.compiles++;
    this.counts.lastCompileMs = performance.now() - t0;
    const max = this.opts.maxEntries ?? 32;
    while (this.compiled.size > max) {
      const oldest = this.compiled.keys().next().value;
      if (oldest === undefined) break;
      const dropped = this.compiled.get(oldest);
      this.compiled.delete(oldest);
      void dropped?.then((g) => g.dispose(), () => {});
    }
    return { grammar, lib: engine.lib, cached: false };
  }

  /** A constraint for one generation in `format`; null for text. */
  async constraint(format: ResponseFormat | undefined): Promise<GrammarConstraint | null> {
    if (!isConstrained(format)) return null;
    const { grammar, lib } = await this.compile(format);
    const matcher = await lib.GrammarMatcher.createGrammarMatcher(grammar, this.vocab.stopTokenIds);
    return new GrammarConstraint(matcher, this.vocab.vocabSize, this.vocab.tokens.length);
  }

  dispose(): void {
    for (const g of this.compiled.values()) void g.then((x) => x.dispose(), () => {});
    this.compiled.clear();
    void this.engine?.then((e) => {
      e.compiler.dispose();
      e.info.dispose();
    }, () => {});
    this.engine = null;
  }
}

/**
 * One generation's grammar state: `prepare()` fills the mask of allowed tokens for the current
 * state (XGrammar's call is asynchronous), `apply()` sets every other logit to −∞ in place,
 * `accept()` advances the state with the chosen token.
 */
export class GrammarConstraint implements StepConstraint {
  private mask: Int32Array | null = null;
  private steps = 0;
  private maskStep = -1;
  private finished = false;
  private failure: unknown = null;
  /** Time spent filling masks / applying them / accepting tokens (ms), for the benchmark's breakdown. */
  readonly time = { fill: 0, apply: 0, accept: 0 };

  constructor(
    private readonly matcher: XGrammarMatcher,
    private readonly vocabSize: number,
    /** How many ids the tokenizer has (≤ vocabSize). */
    private readonly knownTokens: number = vocabSize,
  ) {}

  /** Whether the grammar accepted end-of-sequence: the structure is complete. */
  get terminated(): boolean {
    return this.finished;
  }

  async prepare(): Promise<void> {
    if (this.maskStep === this.steps) return;
    const t0 = performance.now();
    const step = this.steps;
    let mask: Int32Array;
    try {
      mask = await this.matcher.getNextTokenBitmask();
    } catch (e) {
      this.failure = e;
      throw e;
    }
    this.time.fill += performance.now() - t0;
    if (step !== this.steps) return;
    this.mask = mask;
    this.maskStep = step;
  }

  apply(logits: Float32Array): void {
    const mask = this.mask;
    if (this.failure) throw this.failure;
    if (!mask || this.maskStep !== this.steps) throw new Error('The grammar mask for this step was not ready.');
    const t0 = performance.now();
    const n = logits.length;
    const covered = Math.min(n, mask.length * 32, this.vocabSize);
    for (let w = 0, base = 0; base < covered; w++, base += 32) {
      const bits = mask[w] ?? 0;
      if (bits === -1) continue;
      const end = Math.min(32, covered - base);
      for (let b = 0; b < end; b++) if (((bits >>> b) & 1) === 0) logits[base + b] = -Infinity;
    }
    // Ids past the tokenizer's vocabulary (padding of the model's embedding) are never allowed.
    for (let i = covered; i < n; i++) logits[i] = -Infinity;
    this.time.apply += performance.now() - t0;
  }

  accept(id: number): void {
    if (!this.tryAccept(id)) throw new Error(`The grammar refused token ${id}.`);
  }

  tryAccept(id: number): boolean {
    // Ids the tokenizer does not have (padding) are never allowed; XGrammar is not asked.
    if (id < 0 || id >= this.knownTokens) return false;
    const t0 = performance.now();
    const ok = this.matcher.acceptToken(id);
    this.time.accept += performance.now() - t0;
    if (!ok) return false;
    this.steps++;
    if (this.matcher.isTerminated()) this.finished = true;
    return true;
  }

  dispose(): void {
    this.matcher.dispose();
  }
}
