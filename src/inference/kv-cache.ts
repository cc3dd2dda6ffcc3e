/**
 * KV states kept across generations, so a conversation's next turn prefills only its new tokens.
 *
 * An entry is the token ids whose keys and values a KV state holds (the prompt and the answer but
 * its last token, which was never fed back) and that state. A prompt reuses the entry with the
 * longest common prefix, at most its length − 1 (the last prompt token must run to give logits);
 * where that is shorter than the entry, the state is cut to it (a divergent turn: an edited system
 * prompt, a Stop, other template inputs). Memory is bounded by bytes and entries, least recently
 * used first out. The worker keeps one entry (its last conversation); the reference server many.
 *
 * Two kinds of payload, with their own rules (`KvPayloadOps`):
 *   - the KV loop's ONNX Runtime tensors, immutable once stored (ONNX Runtime never writes its
 *     inputs; a cut is a copy), so an entry stays in place while a generation reads it and any
 *     number of conversations may share a prefix;
 *   - transformers.js's DynamicCache on the generate() path, which generate() updates in place:
 *     taking such an entry removes it (the generation's final state is stored instead).
 * A state is stored only after a generation ended normally (a stop or a cancel included: its state
 * is whole); one that threw stores nothing.
 */
import type { Dtype } from '../models/dtypes';

/**
 * Why a model's KV states must not be reused, or null. Dynamically quantized weights (q8, int8,
 * uint8: DynamicQuantizeLinear before each MatMulInteger) scale the activations of each run by the
 * largest value among all the tokens run together, so prefilling a turn's new tokens alone gives
 * other numbers than prefilling the whole prompt: measured on slm-pocket q8, the 4th turn of the
 * scripted conversation (tests/kv-conversation.ts) answered other tokens from its first one on, on
 * both loops. fp32 and q4 (weight-only MatMulNBits, or its weights rewritten to fp32) are token-for-token exact;
 * q4 whose weights the app rewrote to int8 (`computedInInt8`) runs the same DynamicQuantizeLinear as q8.
 * The int8 step of our own (int8-session.ts) runs a prompt row by row, each row with its own scale, so on it
 * reuse is exact for every dtype: the generation core keeps states there whatever this says (core.ts `stepCache`).
 */
export function kvReuseBlocker(dtype: Dtype, computedInInt8 = false): string | null {
  if (dtype === 'q8' || dtype === 'int8' || dtype === 'uint8') {
    return `${dtype}: no KV cache (its weights quantize activations per run, so a reused cache would change the tokens)`;
  }
  if (dtype === 'q4' && computedInInt8) {
    return 'q4 computed in int8 here: no KV cache (its activations are quantized per run, so a reused cache would change the tokens)';
  }
  return null;
}

export interface KvPayloadOps<P> {
  /** Bytes held by `p`. */
  bytes(p: P): number;
  /** `p` (holding `from` positions) cut to its first `to` positions, or null where it cannot be cut. */
  truncate(p: P, from: number, to: number): P | null;
  /** Frees what `p` holds outside the JavaScript heap (GPU buffers); may be a no-op. */
  dispose(p: P): void;
  /** Whether a generation leaves the payload it started from as it was (see the header). */
  immutable: boolean;
}

export interface KvCacheLimits {
  maxBytes: number;
  maxEntries: number;
}

export interface KvCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  maxEntries: number;
  /** Lookups that reused at least one token / none. */
  hits: number;
  misses: number;
  /** Prompt tokens reused from the cache / prefilled, over all lookups. */
  reusedTokens: number;
  prefilledTokens: number;
  evictions: number;
}

interface Entry<P> {
  tokens: readonly number[];
  payload: P;
  bytes: number;
}

/** A state to start from: `payload` holds the first `length` tokens of the prompt. */
export interface KvStart<P> {
  payload: P;
  length: number;
}

/** What the last lookup found, for saying why a prompt reused less than was kept. */
export interface KvLookup {
  /** Tokens held by the entry the prompt shares most with (else the newest entry); 0: nothing kept. */
  kept: number;
  /** Tokens the prompt shares with that entry (before keeping the last prompt token to run). */
  shared: number;
  /** The entry could not be cut to the shared prefix (a state on the GPU), so nothing was reused. */
  cutFailed: boolean;
}

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class KvPrefixCache<P> {
  /** Least recently used first. */
  private entries: Entry<P>[] = [];
  private counters = { hits: 0, misses: 0, reusedTokens: 0, prefilledTokens: 0, evictions: 0 };
  /** See KvLookup; set by every take(). */
  lastLookup: KvLookup = { kept: 0, shared: 0, cutFailed: false };

  constructor(
    private readonly ops: KvPayloadOps<P>,
    readonly limits: KvCacheLimits,
  ) {}

  /**
   * The state to start `prompt` from, or null (prefill everything). Counts the lookup. The
   * returned payload is the caller's to read; with a mutable payload kind it is the caller's to
   * keep or dispose (the entry is gone).
   */
  take(prompt: readonly number[]): KvStart<P> | null {
    let best: Entry<P> | null = null;
    let bestLen = 0;
    let shared = 0;
    for (const e of this.entries) {
      const common = commonPrefix(e.tokens, prompt);
      const n = Math.min(common, prompt.length - 1);
      if (n > bestLen) {
        best = e;
        bestLen = n;
        shared = common;
      }
    }
    this.lastLookup = { kept: (best ?? this.entries.at(-1))?.tokens.length ?? 0, shared, cutFailed: false };
    let start: KvStart<P> | null = null;
    if (best) {
      this.entries.splice(this.entries.indexOf(best), 1);
      if (this.ops.immutable) this.entries.push(best);
      const payload = bestLen === best.tokens.length ? best.payload : this.ops.truncate(best.payload, best.tokens.length, bestLen);
      if (!this.ops.immutable && payload !== best.payload) this.ops.dispose(best.payload);
      if (payload !== null) start = { payload, length: bestLen };
      else this.lastLookup.cutFailed = true;
    }
    const reused = start?.length ?? 0;
    if (reused > 0) this.counters.hits++;
    else this.counters.misses++;
    this.counters.reusedTokens += reused;
    this.counters.prefilledTokens += prompt.length - reused;
    return start;
  }

  /** Keeps `payload` as the state of `tokens`; entries it extends are dropped, then the oldest beyond the limits. */
  put(tokens: readonly number[], payload: P): void {
    const bytes = this.ops.bytes(payload);
    if (tokens.length === 0 || bytes > this.limits.maxBytes) {
      this.ops.dispose(payload);
      return;
    }
    this.entries = this.entries.filter((e) => {
      const covered = e.tokens.length <= tokens.length && commonPrefix(e.tokens, tokens) === e.tokens.length;
      if (covered && e.payload !== payload) this.ops.dispose(e.payload);
      return !covered;
    });
    this.entries.push({ tokens: [...tokens], payload, bytes });
    while (this.entries.length > this.limits.maxEntries || this.bytes > this.limits.maxBytes) {
      const old = this.entries.shift();
      if (!old) break;
      this.ops.dispose(old.payload);
      this.counters.evictions++;
    }
  }

  get bytes(): number {
    let n = 0;
    for (const e of this.entries) n += e.bytes;
    return n;
  }

  /** Frees every entry (unload). */
  clear(): void {
    for (const e of this.entries) this.ops.dispose(e.payload);
    this.entries = [];
  }

  stats(): KvCacheStats {
    return { entries: this.entries.length, bytes: this.bytes, ...this.limits, ...this.counters };
  }
}
