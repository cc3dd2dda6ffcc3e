// Over 300 lines: the vocabulary, the compiled-grammar cache, the per-step constraint and its bitmask are one unit.
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
import { isEngineAbort, type XCompiledGrammar, type XGrammarLib, type XGrammarLoader, type XGrammarMatcher, type XTokenizerInfo } from './xgrammar';
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
  /** Fresh XGrammar instances started after one aborted. */
  restarts: number;
}

interface Engine {
  lib: XGrammarLib;
  info: XTokenizerInfo;
  compiler: Awaited<ReturnType<XGrammarLib['GrammarCompiler']['createGrammarCompiler']>>;
}

export interface GrammarCacheOptions {
  /** Loads XGrammar (lazily, on the first constrained generation); `fresh`: a new instance, after one aborted. */
  load: XGrammarLoader;
  /** Compiled grammars kept (least recently used out first). */
  maxEntries?: number;
}

const ENGINE_STOPPED = 'The grammar engine stopped (a WebAssembly abort); the next JSON answer starts a new one.';

/**
 * The compiled grammars of one tokenizer, keyed by format (schema text). Compiling a JSON Schema
 * over a vocabulary builds its token tables (tens to hundreds of ms on a 50k vocabulary, bench:
 * schema_compile_ms); every later generation with the same schema only creates a matcher.
 *
 * After XGrammar aborts (in a compile, a matcher's creation, or a step of a generation), its
 * WebAssembly instance is not trusted again: the request that met the abort fails with a
 * GrammarError, and the next one drops the instance and everything compiled on it and starts a
 * fresh instance (`load({ fresh: true })`), so JSON output works again without reloading the model.
 */
export class GrammarCache {
  readonly key: string;
  private engine: Promise<Engine> | null = null;
  /** Counts engines started: a constraint's abort marks the cache broken only if its engine is still the current one. */
  private generation = 0;
  private broken = false;
  private readonly compiled = new Map<string, Promise<XCompiledGrammar>>();
  private readonly counts: GrammarCacheStats = { compiles: 0, hits: 0, lastCompileMs: null, restarts: 0 };

  constructor(
    readonly vocab: TokenizerVocab,
    private readonly opts: GrammarCacheOptions,
  ) {
    this.key = vocabKey(vocab);
  }

  stats(): GrammarCacheStats {
    return { ...this.counts };
  }

  private start(fresh: boolean): Promise<Engine> {
    const v = this.vocab;
    this.generation++;
    const p = (async () => {
      const lib = await this.opts.load({ fresh });
      const info = await lib.TokenizerInfo.createTokenizerInfo(v.tokens, v.vocabType, v.prependSpace, v.vocabSize, v.stopTokenIds);
      const compiler = await lib.GrammarCompiler.createGrammarCompiler(info, false);
      return { lib, info, compiler };
    })();
    p.catch((e: unknown) => {
      if (this.engine !== p) return;
      this.engine = null;
      if (isEngineAbort(e)) this.broken = true;
    });
    return p;
  }

  /** The current engine; a fresh one (and an empty cache) after an abort. */
  private current(): Promise<Engine> {
    if (this.broken) {
      this.broken = false;
      // Nothing is disposed: calls into the stopped instance are what is not trusted. Dropping
      // every reference lets the instance and its WebAssembly memory be collected.
      this.compiled.clear();
      this.counts.restarts++;
      this.engine = this.start(true);
    }
    this.engine ??= this.start(false);
    return this.engine;
  }

  /** Marks the engine of `generation` stopped, if it is still the current one. */
  private stopped(generation: number, e: unknown): boolean {
    if (!isEngineAbort(e)) return false;
    if (generation === this.generation) {
      this.broken = true;
      this.engine = null;
      // Its grammars go with it (never disposed: that too would call into the stopped instance).
      this.compiled.clear();
    }
    return true;
  }

  /** The compiled grammar for `format` (JSON object or JSON Schema), from the cache when it is there. */
  async compile(format: Exclude<ResponseFormat, { type: 'text' }>): Promise<{ grammar: XCompiledGrammar; lib: XGrammarLib; cached: boolean; generation: number }> {
    const started = this.current();
    const generation = this.generation;
    let engine: Engine;
    try {
      engine = await started;
    } catch (e) {
      if (isEngineAbort(e)) throw new GrammarError(`${ENGINE_STOPPED} (${errorText(e)})`);
      throw e;
    }
    const key = formatKey(format);
    const hit = this.compiled.get(key);
    if (hit) {
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      this.counts.hits++;
      return { grammar: await hit, lib: engine.lib, cached: true, generation };
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
      if (this.compiled.get(key) === job) this.compiled.delete(key);
      const text = errorText(e);
      // The WebAssembly build aborts on a schema its checks refuse (the reason goes to the console).
      if (this.stopped(generation, e)) throw new GrammarError(`The JSON Schema could not be compiled into a grammar (check its ranges, patterns and $ref targets): ${text}`);
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
    return { grammar, lib: engine.lib, cached: false, generation };
  }

  /** A constraint for one generation in `format`; null for text. */
  async constraint(format: ResponseFormat | undefined): Promise<GrammarConstraint | null> {
    if (!isConstrained(format)) return null;
    const { grammar, lib, generation } = await this.compile(format);
    let matcher: XGrammarMatcher;
    try {
      matcher = await lib.GrammarMatcher.createGrammarMatcher(grammar, this.vocab.stopTokenIds);
    } catch (e) {
      if (this.stopped(generation, e)) throw new GrammarError(`${ENGINE_STOPPED} (${errorText(e)})`);
      throw e;
    }
    return new GrammarConstraint(matcher, this.vocab.vocabSize, this.vocab.tokens.length, (e) => this.stopped(generation, e));
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
 * state (XGrammar's call is asynchronous; nothing to wait for once it is there), `apply()` sets
 * every other logit to −∞ in place, `accept()` advances the state with the chosen token. An abort
 * inside XGrammar becomes a GrammarError (not a crash of ONNX Runtime: the model is fine) and is
 * reported to the cache (`onAbort`), which starts a fresh instance for the next generation.
 */
export class GrammarConstraint implements StepConstraint {
  private mask: Int32Array | null = null;
  private steps = 0;
  private maskStep = -1;
  private pending: Promise<void> | null = null;
  private pendingStep = -1;
  private finished = false;
  private failure: unknown = null;
  /** Reused between steps: the allowed tokens' logits while the row is filled with −∞. */
  private scratch: Float64Array = new Float64Array(256);
  /** Time spent filling masks / applying them / accepting tokens (ms), and masks filled, for the benchmark's breakdown. */
  readonly time = { fill: 0, apply: 0, accept: 0, fills: 0 };

  constructor(
    private readonly matcher: XGrammarMatcher,
    private readonly vocabSize: number,
    /** How many ids the tokenizer has (≤ vocabSize). */
    private readonly knownTokens: number = vocabSize,
    /** Told about an error from XGrammar; true when it was an abort (the instance is not trusted again). */
    private readonly onAbort: (e: unknown) => boolean = isEngineAbort,
  ) {}

  /** Whether the grammar accepted end-of-sequence: the structure is complete. */
  get terminated(): boolean {
    return this.finished;
  }

  /** `e` as this generation's failure: an abort becomes a GrammarError. */
  private fail(e: unknown): unknown {
    this.failure = this.onAbort(e) ? new GrammarError(`${ENGINE_STOPPED} (${errorText(e)})`) : e;
    return this.failure;
  }

  prepare(): Promise<void> | void {
    if (this.failure) throw this.failure;
    if (this.maskStep === this.steps) return;
    if (this.pending && this.pendingStep === this.steps) return this.pending;
    const step = this.steps;
    const t0 = performance.now();
    const p = this.matcher.getNextTokenBitmask().then(
      (mask) => {
        this.time.fill += performance.now() - t0;
        this.time.fills++;
        if (this.pending === p) this.pending = null;
        if (step !== this.steps) return;
        this.mask = mask;
        this.maskStep = step;
      },
      (e: unknown) => {
        if (this.pending === p) this.pending = null;
        throw this.fail(e);
      },
    );
    this.pending = p;
    this.pendingStep = step;
    return p;
  }

  apply(logits: Float32Array): void {
    const mask = this.mask;
    if (this.failure) throw this.failure;
    if (!mask || this.maskStep !== this.steps) throw new Error('The grammar mask for this step was not ready.');
    const t0 = performance.now();
    this.scratch = applyBitmask(logits, mask, this.vocabSize, this.scratch);
    this.time.apply += performance.now() - t0;
  }

  accept(id: number): void {
    if (!this.tryAccept(id)) throw new Error(`The grammar refused token ${id}.`);
  }

  tryAccept(id: number): boolean {
    if (this.failure) throw this.failure;
    // Ids the tokenizer does not have (padding) are never allowed; XGrammar is not asked.
    if (id < 0 || id >= this.knownTokens) return false;
    const t0 = performance.now();
    let ok: boolean;
    try {
      ok = this.matcher.acceptToken(id);
      if (ok) this.finished = this.matcher.isTerminated();
    } catch (e) {
      throw this.fail(e);
    }
    this.time.accept += performance.now() - t0;
    if (!ok) return false;
    this.steps++;
    return true;
  }

  dispose(): void {
    try {
      this.matcher.dispose();
    } catch {
      // An instance that aborted may refuse even this; it is dropped whole.
    }
  }
}

/**
 * In place: every logit whose bit in `mask` (XGrammar's bitmask: bit i of word i>>5 set = allowed)
 * is 0, and every id at or past `vocabSize`, set to −∞. Returns the scratch buffer (grown if needed).
 * Two ways, by how many are allowed (bench: mask_apply_us): few (outside strings) → keep them, fill
 * the row natively, put them back; many (inside a string) → visit only the forbidden ids.
 */
export function applyBitmask(logits: Float32Array, mask: Int32Array, vocabSize: number, scratch: Float64Array = new Float64Array(256)): Float64Array {
  const n = logits.length;
  const covered = Math.min(n, mask.length * 32, vocabSize);
  const words = Math.ceil(covered / 32);
  let allowed = 0;
  for (let w = 0; w < words; w++) allowed += popcount(mask[w] ?? 0);
  if (allowed * 4 < covered) {
    const keep = scratch.length >= allowed ? scratch : new Float64Array(Math.max(allowed, 256));
    let k = 0;
    forEachBit(mask, words, covered, false, (i) => (keep[k++] = logits[i] ?? 0));
    logits.fill(-Infinity);
    k = 0;
    forEachBit(mask, words, covered, false, (i) => (logits[i] = keep[k++] ?? -Infinity));
    return keep;
  }
  forEachBit(mask, words, covered, true, (i) => (logits[i] = -Infinity));
  // Ids past the tokenizer's vocabulary (padding of the model's embedding) are never allowed.
  logits.fill(-Infinity, covered);
  return scratch;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Calls `fn` with every id below `limit` whose bit in `mask` is 0 (`zeros`) or 1, in order. */
function forEachBit(mask: Int32Array, words: number, limit: number, zeros: boolean, fn: (i: number) => void): void {
  for (let w = 0; w < words; w++) {
    let bits = zeros ? ~(mask[w] ?? 0) : (mask[w] ?? 0);
    const base = w * 32;
    while (bits !== 0) {
      const b = 31 - Math.clz32(bits & -bits);
      const i = base + b;
      if (i >= limit) break;
      fn(i);
      bits &= bits - 1;
    }
  }
}
