import { describe, expect, it } from 'vitest';
import { ANSWER_TOKENS, INT8_STEP_WARMUP_TOKENS, MAX_WINDOW_TOKENS, MIN_WINDOW_TOKENS, nextPrefillPass, planAfterPrimer, planForInt8Step, PREFILL_BUDGET_MS, PREFILL_PROBE_TOKENS, PRIMED_MIN_DECODE_MS, warmupSettled, WindowClock, windowTokens } from '../../src/engines/local/worker/warmup-rule';

const RULE = { minTokens: 1024, minDecodeMs: 1000 };

describe('warm-up stop rule', () => {
  it('a large model stops after ~1 s of decoding once three windows agree, far below 1,024 tokens', () => {
    // 135M-shape q8 in the browser: ~45 tok/s, 6-token windows of ~120 ms.
    const speeds = [30, 44, 45, 44.5, 45.2, 44.8, 45.1, 44.9, 45, 45.3, 44.7, 45, 45.1, 44.6];
    let tokens = 0;
    let ms = 0;
    let stoppedAt = -1;
    for (let i = 0; i < speeds.length; i++) {
      tokens += 6;
      ms += (5 / speeds[i]!) * 1000;
      if (warmupSettled(speeds.slice(0, i + 1), tokens, ms, RULE)) {
        stoppedAt = i;
        break;
      }
    }
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    expect(tokens).toBeLessThan(100);
    expect(ms).toBeGreaterThanOrEqual(RULE.minDecodeMs);
  });

  it('does not stop before the floor (tokens or decode time), however stable', () => {
    const flat = [100, 100, 100, 100, 100, 100];
    expect(warmupSettled(flat, 300, 900, RULE)).toBe(false);
    expect(warmupSettled(flat, 1024, 10, RULE)).toBe(true);
    expect(warmupSettled(flat, 60, 1000, RULE)).toBe(true);
    expect(warmupSettled([100, 100, 100], 5000, 5000, RULE)).toBe(false);
  });

  it('does not stop while the speed still climbs (JIT tier-up), by more than 5% group to group', () => {
    expect(warmupSettled([500, 600, 700, 800, 1000, 1200], 2000, 5000, RULE)).toBe(false);
    expect(warmupSettled([1000, 1000, 1000, 1600, 1610, 1590], 2000, 5000, RULE)).toBe(false);
    expect(warmupSettled([1000, 1000, 1000, 1040, 1030, 1045], 2000, 5000, RULE)).toBe(true);
  });

  it('noise does not keep it going: one lucky window, or a dip, is outvoted by the group median', () => {
    // Busy machine: ±10% per window, one window 30% fast.
    expect(warmupSettled([45, 41, 58, 44, 40, 46], 60, 1200, RULE)).toBe(true);
    expect(warmupSettled([45, 41, 47, 30, 44, 46], 60, 1200, RULE)).toBe(true);
  });

  it('windows last ~120 ms within 3..128 tokens', () => {
    expect(MIN_WINDOW_TOKENS).toBe(3);
    expect(windowTokens(null)).toBe(2 * MIN_WINDOW_TOKENS);
    expect(windowTokens(20)).toBe(MIN_WINDOW_TOKENS);
    expect(windowTokens(45)).toBe(5);
    expect(windowTokens(100)).toBe(12);
    expect(windowTokens(2000)).toBe(MAX_WINDOW_TOKENS);
    expect(windowTokens(0)).toBe(2 * MIN_WINDOW_TOKENS);
  });
});

describe('prefill passes before the windows', () => {
  const LONG = 512;
  it('a toy model (a few ms a pass) gets full-length passes until the 150 ms budget is spent', () => {
    expect(nextPrefillPass(3, 3, PREFILL_PROBE_TOKENS, LONG)).toBe(LONG);
    expect(nextPrefillPass(27, 24, LONG, LONG)).toBe(LONG);
  });

  it('a large model whose probe nearly spent the budget runs no long pass (a warm load: 141 ms, then 1.4 s for 512 tokens)', () => {
    expect(nextPrefillPass(141, 141, PREFILL_PROBE_TOKENS, LONG)).toBe(0);
    expect(nextPrefillPass(400, 400, PREFILL_PROBE_TOKENS, LONG)).toBe(0);
  });

  it('in between, the next pass is sized to what is left of the budget at the last pass speed', () => {
    // Native 135M q8: the probe in 38 ms (0.59 ms a token), 112 ms left: 189 tokens.
    const n = nextPrefillPass(38, 38, PREFILL_PROBE_TOKENS, LONG);
    expect(n).toBe(Math.floor((PREFILL_BUDGET_MS - 38) / (38 / 64)));
    expect(n).toBeGreaterThan(PREFILL_PROBE_TOKENS);
    expect(n).toBeLessThan(LONG);
    // Less than a probe's worth left: stop.
    expect(nextPrefillPass(120, 60, PREFILL_PROBE_TOKENS, LONG)).toBe(0);
    // Never longer than the long prompt, and a context too short for one still stops cleanly.
    expect(nextPrefillPass(1, 1, PREFILL_PROBE_TOKENS, 100)).toBe(100);
    expect(nextPrefillPass(10, 10, 0, LONG)).toBe(0);
  });
});

describe('the warm-up plan when the int8 step decodes', () => {
  it('keeps its prompt passes and bounds, and decodes one short answer', () => {
    const plan = { prefillPasses: 4, maxTokens: 1536, minTokens: 1024, minDecodeMs: 1000, maxMs: 6000 };
    expect(planForInt8Step(plan)).toEqual({ ...plan, maxTokens: INT8_STEP_WARMUP_TOKENS });
    expect(INT8_STEP_WARMUP_TOKENS).toBeLessThan(ANSWER_TOKENS);
    // A plan already shorter keeps its own.
    expect(planForInt8Step({ ...plan, maxTokens: 4 }).maxTokens).toBe(4);
  });
});

describe('the warm-up plan after the kernel primer', () => {
  const plan = { prefillPasses: 4, maxTokens: 1536, minTokens: 1024, minDecodeMs: 1000, maxMs: 6000 };
  const report = (settled: boolean | undefined, skipped: string | null = null) => ({ worker: 'model' as const, ms: 500, runMs: 240, runs: 102, tokens: 144, settled, skipped });

  it('a primer that settled (V8 done optimising) halves the floor and takes the prefill passes\' place; nothing else changes', () => {
    expect(planAfterPrimer(plan, report(true))).toEqual({ ...plan, minDecodeMs: PRIMED_MIN_DECODE_MS, prefillPasses: 0 });
    expect(PRIMED_MIN_DECODE_MS).toBeLessThan(plan.minDecodeMs);
    // A plan whose floor is already shorter keeps it.
    expect(planAfterPrimer({ ...plan, minDecodeMs: 200 }, report(true)).minDecodeMs).toBe(200);
  });

  it('no primer, one stopped before it settled, or one that did not run: the plan as it was', () => {
    expect(planAfterPrimer(plan, null)).toBe(plan);
    expect(planAfterPrimer(plan, report(false))).toBe(plan);
    expect(planAfterPrimer(plan, { ...report(undefined, "the model's session began first"), runs: 0 })).toBe(plan);
  });
});

describe('WindowClock: windows cut inside one answer', () => {
  it('the first token (it carries the prefill) only opens the first window; then windows of windowTokens(last speed) tokens, back to back', () => {
    const clock = new WindowClock(null);
    // 6 tokens wanted first (no speed yet); tokens every 20 ms after a 300 ms prefill.
    const times = [300, ...Array.from({ length: 40 }, (_, i) => 320 + i * 20)];
    const windows = times.map((t) => clock.token(t)).filter((w) => w !== null);
    // 50 tok/s: the first window is 6 tokens (120 ms), then windowTokens(50) = 6 again.
    expect(windows[0]).toEqual({ tps: 50, ms: 120, tokens: 6 });
    expect(windows.every((w) => w.tokens === 6 && Math.abs(w.tps - 50) < 1e-9)).toBe(true);
    // 40 intervals: 6 whole windows, 4 tokens left over (not a window).
    expect(windows).toHaveLength(6);
    expect(windows.reduce((s, w) => s + w.ms, 0)).toBe(720);
  });

  it('a slow model gets the 3-token minimum, a fast one up to 128 a window; the size follows the last window', () => {
    const slow = new WindowClock(10);
    expect([0, 100, 200].map((t) => slow.token(t))).toEqual([null, null, null]);
    expect(slow.token(300)).toEqual({ tps: 10, ms: 300, tokens: 3 });
    const fast = new WindowClock(5000);
    let w = null;
    for (let i = 0; i <= 128 && !w; i++) w = fast.token(i * 0.2);
    expect(w?.tokens).toBe(MAX_WINDOW_TOKENS);
    expect(ANSWER_TOKENS).toBe(MAX_WINDOW_TOKENS + 1);
  });

  it('a context with room for only a short answer: windows fit inside it, so one still closes', () => {
    const clock = new WindowClock(5000, 4);
    expect([0, 1, 2, 3].map((t) => clock.token(t))).toEqual([null, null, null, null]);
    expect(clock.token(4)).toEqual({ tps: 1000, ms: 4, tokens: 4 });
  });
});
