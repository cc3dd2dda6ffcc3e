// Token choice for the KV decode loop: the parts transformers.js implements must agree with its own
// logits processors; top-p, which it leaves out, follows Hugging Face's definition.
import { RepetitionPenaltyLogitsProcessor, Tensor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argmax, candidates, drawUnsorted, nextToken, sample, suppressEos, type SamplingSettings, type StepConstraint } from '../../src/inference/sampling';

const GREEDY: SamplingSettings = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: 0 };

describe('repetition penalty', () => {
  it('is what transformers.js RepetitionPenaltyLogitsProcessor does, duplicates and negative logits included', () => {
    const logits = [2, -1, 0.5, -3, 4, 0, 1.5, -0.25];
    const ids = [1, 4, 4, 3, 6, 1];
    const ours = Float32Array.from(logits);
    applyRepetitionPenalty(ours, ids, ids.length, 1.7, new Uint8Array(logits.length));
    const theirs = new Tensor('float32', Float32Array.from(logits), [1, logits.length]);
    new RepetitionPenaltyLogitsProcessor(1.7)._call([ids.map(BigInt)], theirs);
    expect(Array.from(ours)).toEqual(Array.from(theirs.data as Float32Array));
    // and it did something: token 4 (positive) divided, token 3 (negative) multiplied, token 0 untouched
    expect(ours[4]).toBeCloseTo(4 / 1.7, 5);
    expect(ours[3]).toBeCloseTo(-3 * 1.7, 5);
    expect(ours[0]).toBe(2);
  });

  it('only counts the first `count` ids', () => {
    const l = Float32Array.from([1, 1, 1]);
    applyRepetitionPenalty(l, [0, 1, 2], 1, 2, new Uint8Array(3));
    expect(Array.from(l)).toEqual([0.5, 1, 1]);
  });
});

describe('end-of-sequence suppression and greedy choice', () => {
  it('forbids every end-of-sequence id until min_new_tokens were generated', () => {
    const l = Float32Array.from([0, 9, 8, 1]);
    suppressEos(l, [1, 2], 2, 3);
    expect(argmax(l)).toBe(3);
    const m = Float32Array.from([0, 9, 8, 1]);
    suppressEos(m, [1, 2], 3, 3);
    expect(argmax(m)).toBe(1);
  });

  it('argmax takes the first of equal maxima, like transformers.js', () => {
    expect(argmax(Float32Array.from([1, 5, 5, 2]))).toBe(1);
    expect(argmax(Float32Array.from([-Infinity, -2, -1]))).toBe(2);
  });
});

describe('sampling candidates', () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);

  it('temperature 1 without filters keeps the softmax', () => {
    const { ids, probs } = candidates(logits, { temperature: 1, topK: 0, topP: 1 });
    expect(ids).toEqual([0, 1, 2, 3]);
    expect(probs.map((p) => Math.round(p * 100) / 100)).toEqual([0.5, 0.3, 0.15, 0.05]);
  });

  it('top-k keeps the k most probable, renormalised', () => {
    const { ids, probs } = candidates(logits, { temperature: 1, topK: 2, topP: 1 });
    expect(ids).toEqual([0, 1]);
    expect(probs[0]).toBeCloseTo(0.5 / 0.8, 6);
  });

  it('top-p keeps the smallest set reaching p, and at least one token', () => {
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 0.8 }).ids).toEqual([0, 1]);
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 0.81 }).ids).toEqual([0, 1, 2]);
    expect(candidates(logits, { temperature: 1, topK: 0, topP: 0.01 }).ids).toEqual([0]);
  });

  it('a low temperature sharpens, a high one flattens', () => {
    const cold = candidates(logits, { temperature: 0.25, topK: 0, topP: 1 }).probs[0] ?? 0;
    const hot = candidates(logits, { temperature: 4, topK: 0, topP: 1 }).probs[0] ?? 0;
    const tempered = (t: number) => 0.5 ** (1 / t) / [0.5, 0.3, 0.15, 0.05].reduce((a, p) => a + p ** (1 / t), 0);
    expect(cold).toBeCloseTo(tempered(0.25), 5); // 0.879
    expect(hot).toBeCloseTo(tempered(4), 5); // 0.314
  });

  it('forbidden (−∞) tokens are never candidates', () => {
    const l = Float32Array.from([5, -Infinity, 4]);
    expect(candidates(l, { temperature: 1, topK: 0, topP: 1 }).ids).toEqual([0, 2]);
  });

  it('a draw follows the probabilities', () => {
    expect(sample(logits, { temperature: 1, topK: 0, topP: 1 }, () => 0.49)).toBe(0);
    expect(sample(logits, { temperature: 1, topK: 0, topP: 1 }, () => 0.51)).toBe(1);
    expect(sample(logits, { temperature: 1, topK: 0, topP: 1 }, () => 0.97)).toBe(3);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sample(logits, { temperature: 1, topK: 0, topP: 1 }, random)]!++;
    expect((counts[0] ?? 0) / 20000).toBeCloseTo(0.5, 1);
    expect((counts[3] ?? 0) / 20000).toBeCloseTo(0.05, 1);
  });
});

describe('nextToken', () => {
  it('greedy applies the penalty before choosing', () => {
    const tokens = Int32Array.from([0]);
    expect(nextToken(Float32Array.from([3, 2, 0]), { ...GREEDY, repetitionPenalty: 2 }, tokens, 1, 0, [], new Uint8Array(3))).toBe(1);
    expect(nextToken(Float32Array.from([3, 2, 0]), GREEDY, tokens, 1, 0, [], new Uint8Array(3))).toBe(0);
  });

  it('sampling with top-k 1 is greedy whatever the draw', () => {
    for (const r of [0, 0.5, 0.999]) {
      expect(nextToken(Float32Array.from([0, 1, 7, 2]), { ...GREEDY, doSample: true, temperature: 3, topK: 1 }, new Int32Array(0), 0, 0, [], new Uint8Array(4), () => r)).toBe(2);
    }
  });
});

/** A grammar that allows a fixed set of ids at every step (the sampling core's side of StepConstraint; the real one is tests/unit/grammar.test.ts). */
class AllowSet implements StepConstraint {
  prepared = 0;
  private ready = false;
  terminated = false;
  constructor(private readonly allowed: ReadonlySet<number>) {}
  prepare(): Promise<void> {
    this.prepared++;
    return Promise.resolve().then(() => void (this.ready = true));
  }
  apply(logits: Float32Array): void {
    if (!this.ready) throw new Error('not ready');
    for (let i = 0; i < logits.length; i++) if (!this.allowed.has(i)) logits[i] = -Infinity;
  }
  accept(id: number): void {
    if (!this.tryAccept(id)) throw new Error(`refused ${id}`);
  }
  tryAccept(id: number): boolean {
    if (!this.allowed.has(id)) return false;
    this.ready = false;
    return true;
  }
}

/** Softmax of `logits` at temperature `t` over `ids` only. */
function maskedProbs(logits: number[], ids: number[], t: number): number[] {
  const w = logits.map((l, i) => (ids.includes(i) ? Math.exp(l / t) : 0));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}

describe('drawUnsorted', () => {
  it('has the distribution of sample() without top-k/top-p (measured over an even grid of draws)', () => {
    const logits = [1, 3, 2.5, -4, 0, 3];
    for (const t of [0.5, 1, 2]) {
      const want = candidates(Float32Array.from(logits), { temperature: t, topK: 0, topP: 1 });
      const counts = new Array<number>(logits.length).fill(0);
      const N = 100_000;
      for (let k = 0; k < N; k++) counts[drawUnsorted(Float32Array.from(logits), t, () => (k + 0.5) / N)]!++;
      want.ids.forEach((id, j) => expect(counts[id]! / N, `t ${t}, id ${id}`).toBeCloseTo(want.probs[j]!, 4));
    }
  });
});

describe('nextToken under a grammar', () => {
  const none = new Int32Array(0);
  it('greedy: the unmasked argmax when allowed, with no Promise; otherwise the masked argmax after the mask', async () => {
    const c = new AllowSet(new Set([1, 2]));
    expect(nextToken(Float32Array.from([0, 5, 1]), GREEDY, none, 0, 0, [], new Uint8Array(3), Math.random, c)).toBe(1);
    expect(c.prepared).toBe(0);
    const refused = nextToken(Float32Array.from([9, 5, 1]), GREEDY, none, 0, 0, [], new Uint8Array(3), Math.random, c);
    expect(refused).toBeInstanceOf(Promise);
    expect(await refused).toBe(1);
    expect(c.prepared).toBe(1);
  });

  it('sampling without top-k/top-p: the result has the masked distribution (the unmasked draw is kept when allowed)', async () => {
    const logits = [2, 1.5, 0, 1, -1];
    const allowed = [1, 2, 4];
    const t = 0.8;
    const want = maskedProbs(logits, allowed, t);
    const c = new AllowSet(new Set(allowed));
    const counts = new Array<number>(logits.length).fill(0);
    // Every pair (first draw, second draw) from an even 300 × 300 grid: an exact integral up to the grid's step.
    const G = 300;
    let unmaskedKept = 0;
    for (let a = 0; a < G; a++) {
      for (let b = 0; b < G; b++) {
        const draws = [(a + 0.5) / G, (b + 0.5) / G];
        let k = 0;
        const r = nextToken(Float32Array.from(logits), { ...GREEDY, doSample: true, temperature: t }, none, 0, 0, [], new Uint8Array(5), () => draws[k++] ?? 0.5, c);
        if (typeof r === 'number') unmaskedKept++;
        counts[await r]!++;
      }
    }
    counts.forEach((n, i) => expect(n / (G * G), `id ${i}`).toBeCloseTo(want[i]!, 2));
    // The unmasked draw is allowed with probability p(A): the mask was skipped that often.
    const pA = maskedProbs(logits, [0, 1, 2, 3, 4], t).reduce((s, p, i) => s + (allowed.includes(i) ? p : 0), 0);
    expect(unmaskedKept / (G * G)).toBeCloseTo(pA, 2);
  });

  it('sampling with top-k or top-p masks first: top-k over the allowed tokens', async () => {
    for (const r of [0, 0.5, 0.999]) {
      const c = new AllowSet(new Set([1, 2]));
      // Unmasked top-1 is the refused token 0; masked top-1 is token 1.
      expect(await nextToken(Float32Array.from([9, 5, 1]), { ...GREEDY, doSample: true, temperature: 1, topK: 1 }, none, 0, 0, [], new Uint8Array(3), () => r, c)).toBe(1);
      expect(c.prepared).toBe(1);
    }
  });
});
