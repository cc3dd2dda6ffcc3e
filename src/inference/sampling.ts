/**
 * Choosing the next token from a row of logits, for the KV decode loop (kv-decoder.ts), and the
 * top-k/top-p mask the generate() path adds (logits.ts). Pure
 * functions on a Float32Array the caller owns (they modify it in place where they say so).
 *
 * Semantics follow transformers.js's generate() where it implements a setting, so that greedy
 * output is token-for-token the same (tests/unit/sampling.test.ts checks against its processors):
 *   - repetition penalty over every distinct token so far, prompt included (÷ when > 0, × when < 0);
 *   - end-of-sequence tokens forbidden until `minNewTokens` tokens were generated;
 *   - greedy: the first index of the maximum.
 * Sampling: temperature, then top-k, then top-p (nucleus), then a draw. transformers.js 4.3 does
 * the first two and ignores top_p (its TopPLogitsWarper is commented out of generate()); here
 * top-p is applied as Hugging Face's Python library defines it: keep the smallest set of most
 * probable tokens whose probability adds up to at least top_p (always at least one).
 */

export interface SamplingSettings {
  /** false: greedy (argmax). */
  doSample: boolean;
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 1 = off. */
  repetitionPenalty: number;
  minNewTokens: number;
}

/** In place: the repetition penalty for every distinct id in `ids[0..count)`. `seen` is scratch space, all zero on entry and on return. */
export function applyRepetitionPenalty(logits: Float32Array, ids: Int32Array | readonly number[], count: number, penalty: number, seen: Uint8Array): void {
  if (penalty === 1) return;
  for (let i = 0; i < count; i++) {
    const id = ids[i] ?? -1;
    if (id < 0 || id >= logits.length || seen[id]) continue;
    seen[id] = 1;
    const v = logits[id] ?? 0;
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
  // Clear what was set (per token: O(tokens so far), not O(vocabulary), on 150k-token vocabularies).
  for (let i = 0; i < count; i++) {
    const id = ids[i] ?? -1;
    if (id >= 0 && id < seen.length) seen[id] = 0;
  }
}

/** In place: end-of-sequence ids get −∞ while fewer than `minNewTokens` tokens were generated. */
export function suppressEos(logits: Float32Array, eos: readonly number[], generated: number, minNewTokens: number): void {
  if (generated >= minNewTokens) return;
  for (const id of eos) if (id >= 0 && id < logits.length) logits[id] = -Infinity;
}

/** The first index of the largest value (transformers.js's `max`). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  let bestValue = logits[0] ?? -Infinity;
  for (let i = 1; i < logits.length; i++) {
    const v = logits[i] ?? -Infinity;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * The candidates a draw chooses from: ids and probabilities (summing to 1), after temperature,
 * top-k and top-p. Most probable first; ties keep the lower id first.
 */
export function candidates(logits: Float32Array, s: Pick<SamplingSettings, 'temperature' | 'topK' | 'topP'>): { ids: number[]; probs: number[] } {
  const n = logits.length;
  const t = s.temperature > 0 ? s.temperature : 1;
  const max = logits[argmax(logits)] ?? 0;
  if (max === -Infinity) return { ids: [0], probs: [1] };
  // Tokens more than 30 nats below the best (after temperature) have a relative probability under
  // 1e-13: leaving them out keeps the sort short on 150k-token vocabularies and changes nothing else.
  const floor = max - 30 * t;
  let ids: number[] = [];
  for (let i = 0; i < n; i++) if ((logits[i] ?? -Infinity) >= floor) ids.push(i);
  ids.sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0) || a - b);
  if (s.topK > 0 && ids.length > s.topK) ids = ids.slice(0, s.topK);
  let probs = ids.map((id) => Math.exp(((logits[id] ?? 0) - max) / t));
  let sum = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / sum);
  if (s.topP > 0 && s.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length) {
      acc += probs[keep] ?? 0;
      keep++;
      if (acc >= s.topP) break;
    }
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    sum = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / sum);
  }
  return { ids, probs };
}

/** A draw from `candidates` with `random()` uniform in [0, 1). */
export function sample(logits: Float32Array, s: Pick<SamplingSettings, 'temperature' | 'topK' | 'topP'>, random: () => number = Math.random): number {
  const { ids, probs } = candidates(logits, s);
  let x = random();
  for (let i = 0; i < ids.length; i++) {
    x -= probs[i] ?? 0;
    if (x < 0) return ids[i] ?? 0;
  }
  return ids[ids.length - 1] ?? 0;
}

/**
 * A draw from the same distribution as `sample()` with top-k and top-p off (temperature, the same
 * 30-nat floor), without sorting: two passes in id order. Which token a given `random()` value
 * picks differs from `sample()`; the distribution is the same. Used under a grammar, where a step
 * may draw twice (nextToken), so a draw costs O(vocabulary), not a sort of it.
 */
export function drawUnsorted(logits: Float32Array, temperature: number, random: () => number): number {
  const n = logits.length;
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[i] ?? -Infinity;
    if (v > max) max = v;
  }
  if (max === -Infinity) return 0;
  const floor = max - 30 * t;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i] ?? -Infinity;
    if (v >= floor) sum += Math.exp((v - max) / t);
  }
  let x = random() * sum;
  let last = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i] ?? -Infinity;
    if (v < floor) continue;
    last = i;
    x -= Math.exp((v - max) / t);
    if (x < 0) return i;
  }
  return last;
}

/**
 * A grammar over the output (grammar.ts): `prepare()` readies the current step's set of allowed
 * tokens (a Promise while XGrammar fills it; nothing once it is there), `apply()` sets every other
 * logit to −∞ in place, `accept()` advances with the chosen token; `terminated` once it accepted
 * end-of-sequence (the structure is complete).
 */
export interface StepConstraint {
  prepare(): Promise<void> | void;
  apply(logits: Float32Array): void;
  accept(id: number): void;
  /** Accepts `id` when the grammar allows it (and returns true), else leaves the state as it was. */
  tryAccept(id: number): boolean;
  readonly terminated: boolean;
}

/**
 * Whether a draw from the unmasked distribution, kept when the grammar allows it and otherwise
 * replaced by a draw from the masked one, is a draw from the masked distribution. With p the
 * distribution and A the allowed set, an allowed a comes out with probability
 * p(a) + (1 − p(A)) · p(a)/p(A) = p(a)/p(A): exactly the masked (renormalised) distribution, for
 * any temperature (it scales logits, which commutes with masking). Not with top-k or top-p: they
 * pick their set before the mask, so the unmasked draw's set differs from the masked one's.
 * (Both draws leave out tokens 30 nats below their best, as candidates() does: allowed tokens under
 * the unmasked floor but over the masked one can only come from the second draw. The difference in
 * total variation is at most about 2·V·e^−30 for V tokens: 1e-10 at 512, 3e-8 at 150k.)
 */
export function unmaskedDrawIsExact(s: Pick<SamplingSettings, 'topK' | 'topP'>): boolean {
  return !(s.topK > 0) && !(s.topP > 0 && s.topP < 1);
}

/**
 * The next token from one row of logits (modified in place), given the tokens so far; under a
 * grammar (`constraint`) the choice is one the grammar allows, and it is accepted into the grammar.
 *
 * Without a constraint, or when the unmasked choice stands, the answer is a number: no Promise on
 * the hot path. Only a step whose mask must be filled (XGrammar's call is asynchronous) returns a
 * Promise. The unmasked choice stands:
 *   - greedy: whenever the grammar allows the unmasked argmax (masking only sets other tokens to
 *     −∞, so the masked argmax is the same token). This skips the mask on most steps: filling a
 *     mask cost 2–6× an accept (bench: constrained_decode_ratio's breakdown);
 *   - sampling without top-k/top-p: whenever the grammar allows the unmasked draw, which is exact
 *     (unmaskedDrawIsExact); otherwise the draw is made again from the masked distribution. Both
 *     draws are `drawUnsorted` (no sort of the vocabulary for a draw that may be thrown away).
 * Sampling with top-k or top-p always masks first.
 */
export function nextToken(
  logits: Float32Array,
  s: SamplingSettings,
  tokens: Int32Array,
  count: number,
  generated: number,
  eos: readonly number[],
  seen: Uint8Array,
  random: () => number = Math.random,
  constraint: StepConstraint | null = null,
): number | Promise<number> {
  applyRepetitionPenalty(logits, tokens, count, s.repetitionPenalty, seen);
  suppressEos(logits, eos, generated, s.minNewTokens);
  if (!constraint) return s.doSample ? sample(logits, s, random) : argmax(logits);
  if (!s.doSample || unmaskedDrawIsExact(s)) {
    const guess = choose(logits, s, random);
    if (constraint.tryAccept(guess)) return guess;
  }
  // The only closure is here, on the masked path: closures built before the fast path returned
  // cost every call its captured context (slm-pocket's constrained steps replayed without the
  // model: 4.41 vs 3.59 µs a token, p25 of 40 interleaved passes).
  const pending = constraint.prepare();
  return pending ? pending.then(() => chooseMasked(logits, s, random, constraint)) : chooseMasked(logits, s, random, constraint);
}

/** Greedy, or a draw: `drawUnsorted` where top-k and top-p are off (a step may draw twice), else `sample`. */
function choose(logits: Float32Array, s: SamplingSettings, random: () => number): number {
  if (!s.doSample) return argmax(logits);
  return unmaskedDrawIsExact(s) ? drawUnsorted(logits, s.temperature, random) : sample(logits, s, random);
}

/** The choice among the tokens the grammar allows (its mask ready), accepted into the grammar. */
function chooseMasked(logits: Float32Array, s: SamplingSettings, random: () => number, constraint: StepConstraint): number {
  constraint.apply(logits);
  const id = choose(logits, s, random);
  constraint.accept(id);
  return id;
}
