/**
 * The paired thread measurement's rounds (src/engines/local/thread-pairs.ts) with scripted engines:
 * each answer reports the decode speed the test gives it, so the pairs are known and the test can
 * check that a settled first round stops at PAIRS and an open one goes on, at most to MAX_PAIRS.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEngine, GenerateRequest, RunResult } from '../../src/engines/types';
import { computeRunMetrics } from '../../src/metrics/timing';
import { measurePairs } from '../../src/engines/local/thread-pairs';
import { EARLY_PAIRS, MAX_PAIRS, pairedDecision, PAIRS } from '../../src/models/threads';

/** Answers at the next speed of `speeds` (tokens/s on the engine's clock), the last one repeated. */
class PacedEngine implements ChatEngine {
  readonly kind = 'local' as const;
  calls = 0;
  constructor(
    readonly label: string,
    private readonly speeds: number[],
  ) {}
  async generate(req: GenerateRequest): Promise<RunResult> {
    const tps = this.speeds[Math.min(this.calls++, this.speeds.length - 1)]!;
    const tokens = req.params.maxNewTokens;
    const decodeMs = ((tokens - 1) / tps) * 1000;
    return {
      text: 'x'.repeat(tokens),
      finishReason: 'length',
      metrics: computeRunMetrics({
        context: { engine: 'local', model: this.label, device: 'wasm', dtype: 'q8', threads: null, crossOriginIsolated: true },
        clock: { requestStart: 0, firstChunkAt: 10, lastChunkAt: 10 + decodeMs, end: 10 + decodeMs },
        engineClock: { generateStart: 0, firstTokenAt: 10, lastTokenAt: 10 + decodeMs },
        inputTokens: 12,
        outputTokens: tokens,
        tokenCountSource: 'tokenizer',
      }),
    };
  }
}

const run = async (fewer: number[], more: number[], warmupTps = 40) => {
  const a = new PacedEngine('1 thread', fewer);
  const b = new PacedEngine('2 threads', more);
  const pairs = await measurePairs(a, b, warmupTps);
  return { pairs, a, b, decision: pairedDecision(pairs, true) };
};

describe('measurePairs: rounds until the pairs settle', () => {
  it('a clear gain settles in one round of PAIRS', async () => {
    const { pairs, a, b, decision } = await run([40], [50]);
    expect(pairs).toHaveLength(PAIRS);
    expect(a.calls).toBe(PAIRS);
    expect(b.calls).toBe(PAIRS);
    expect(pairs[0]!.fewer).toBeCloseTo(40, 6);
    expect(pairs[0]!.more).toBeCloseTo(50, 6);
    expect(decision.more).toBe(true);
  });

  it('a larger count no faster settles in one round, and the smaller count is kept', async () => {
    const { pairs, decision } = await run([40], [38]);
    expect(pairs).toHaveLength(PAIRS);
    expect(decision).toMatchObject({ more: false, settled: true });
  });

  it('a 10% gain the first round hides is found in the next one', async () => {
    // First round: 1.05, 0.85, 1.02, 1.03 (median 1.025: open); then the gain shows (1.10–1.27).
    const more = [42, 34, 40.8, 41.2, 44, 48.8, 44, 50.8];
    const { pairs, decision } = await run([40], more);
    expect(pairedDecision(pairs.slice(0, PAIRS))).toMatchObject({ more: false, settled: false });
    expect(pairs).toHaveLength(2 * PAIRS);
    expect(decision.more).toBe(true);
    expect(decision.ratio).toBeCloseTo(1.075, 3);
  });

  it('a slow model whose first two pairs agree by EARLY_MARGIN stops after them', async () => {
    const { pairs, a, decision } = await run([10], [14, 13], 10);
    expect(pairs).toHaveLength(EARLY_PAIRS);
    expect(a.calls).toBe(EARLY_PAIRS);
    expect(decision.more).toBe(true);
    // The same answers from a fast model run the whole round.
    expect((await run([40], [56, 52])).pairs).toHaveLength(PAIRS);
    // A slow model whose second pair falls short of the margin runs the whole round too.
    const short = await run([10], [14, 12, 14, 14], 10);
    expect(short.pairs).toHaveLength(PAIRS);
    expect(short.decision.more).toBe(true);
  });

  it('never settled: stops at MAX_PAIRS and decides on the final margin', async () => {
    // Every pair 1.03 faster: a median gain under PAIRED_MARGIN, shared by all pairs.
    const { pairs, decision } = await run([40], [41.2]);
    expect(pairs).toHaveLength(MAX_PAIRS);
    expect(decision).toMatchObject({ more: true, settled: false });
    // 1.01: under FINAL_MARGIN too: the smaller count stays (either is within 5% of the other).
    const close = await run([40], [40.4]);
    expect(close.pairs).toHaveLength(MAX_PAIRS);
    expect(close.decision.more).toBe(false);
  });
});
