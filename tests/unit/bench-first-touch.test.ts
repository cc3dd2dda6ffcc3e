/** The bench's proposed readings of issue 12's load and dtype targets (scripts/bench/first-touch.ts). */
import { describe, expect, it } from 'vitest';
import { coldAnswerExtraMs, exFirstTouch, firstTouchMs, overFastest, warmOverNativeAsRun } from '../../scripts/bench/first-touch';

const GB = 1024 ** 3;

describe('exFirstTouch', () => {
  it("takes each side's own first-touch price out of its own time", () => {
    // The 2026-12-02 bench's 135M q4 row, with the touches estimated in docs/performance.md:
    // the browser 1.7 GiB at 1,173 ms a GiB, native 0.5 GiB at 875.
    const browser = { ms: 7199, touchedBytes: 1.7 * GB, msPerGib: 1173 };
    const native = { ms: 4080, touchedBytes: 0.5 * GB, msPerGib: 875 };
    expect(firstTouchMs(browser)).toBeCloseTo(1994.1, 1);
    expect(firstTouchMs(native)).toBeCloseTo(437.5, 1);
    expect(exFirstTouch(browser, native)).toBeCloseTo((7199 - 1994.1) / (4080 - 437.5), 3);
    // Taking the price out can raise the ratio too: a side that touched nothing keeps its whole time.
    expect(exFirstTouch({ ...browser, touchedBytes: 0 }, native)).toBeGreaterThan(7199 / 4080);
  });

  it('is null where a side has no count or no price, and never divides by a time the price used up', () => {
    const ok = { ms: 5000, touchedBytes: GB, msPerGib: 1000 };
    expect(exFirstTouch({ ...ok, touchedBytes: null }, ok)).toBeNull();
    expect(exFirstTouch(ok, { ...ok, msPerGib: null })).toBeNull();
    expect(exFirstTouch(ok, { ms: 900, touchedBytes: GB, msPerGib: 1000 })).toBeNull();
    expect(exFirstTouch(ok, ok)).toBe(1);
  });

  it('counts a negative count (a process that shrank) as nothing touched', () => {
    expect(firstTouchMs({ ms: 100, touchedBytes: -GB, msPerGib: 1000 })).toBe(0);
  });
});

describe('overFastest', () => {
  it('reads every dtype against the fastest through the pairs with one reference', () => {
    // q4 ÷ q8 = 1.05 in pairs (q8 runs at 1 / 1.05 of q4), fp32 ÷ q4 = 1.02.
    const r = overFastest('q4', { q8: 1 / 1.05, fp32: 1.02 });
    expect(r.fp32).toBe(1);
    expect(r.q4).toBeCloseTo(1 / 1.02, 6);
    expect(r.q8).toBeCloseTo(1 / 1.05 / 1.02, 6);
  });

  it('leaves out a dtype without a usable pair instead of calling it a trap', () => {
    const r = overFastest('q4', { q8: null, fp32: Number.NaN, q4: 3 });
    expect(r).toEqual({ q4: 1 });
  });

  it('keeps the reference at 1 when it is the fastest', () => {
    expect(overFastest('q4', { q8: 0.7 })).toEqual({ q4: 1, q8: 0.7 });
  });
});

describe('coldAnswerExtraMs', () => {
  it("gives a cold speed's cost as the first answer's extra time over the steady speed", () => {
    // 63 intervals: at 63 tok/s a second, at 126 tok/s half of one.
    expect(coldAnswerExtraMs(63, 126)).toBeCloseTo(500, 6);
    // The same ratio (0.5) at a toy model's speed is a few tens of ms.
    expect(coldAnswerExtraMs(1000, 2000)).toBeCloseTo(31.5, 6);
    // A cold answer faster than steady: negative, not clipped.
    expect(coldAnswerExtraMs(130, 126)).toBeLessThan(0);
    expect(coldAnswerExtraMs(63, 126, 2)).toBeCloseTo(1000 / 63 - 1000 / 126, 6);
  });

  it('is null without both speeds', () => {
    expect(coldAnswerExtraMs(null, 100)).toBeNull();
    expect(coldAnswerExtraMs(100, undefined)).toBeNull();
    expect(coldAnswerExtraMs(0, 100)).toBeNull();
    expect(coldAnswerExtraMs(100, Infinity)).toBeNull();
  });
});

describe('warmOverNativeAsRun', () => {
  // The 2026-12-03 bench's 135M rows (ms).
  const fp32 = { model: 'scale:smollm2-135m', dtype: 'fp32', warm_load_ms: 9580, native_warm_load_ms: 6695, warm_load_parts: { rewrite_to: null } };
  const q8 = { model: 'scale:smollm2-135m', dtype: 'q8', warm_load_ms: 4413, native_warm_load_ms: 3523, warm_load_parts: { rewrite_to: null } };
  const q4 = { model: 'scale:smollm2-135m', dtype: 'q4', warm_load_ms: 7816, native_warm_load_ms: 3338, warm_load_parts: { rewrite_to: 'fp32' as const } };
  const rows = [fp32, q8, q4];

  it("reads a q4 row rewritten to fp32 against native's fp32 warm load of the same model", () => {
    expect(warmOverNativeAsRun(q4, rows)).toBeCloseTo(7816 / 6695, 6);
    // Rewritten to int8: the q8 row's.
    expect(warmOverNativeAsRun({ ...q4, warm_load_parts: { rewrite_to: 'int8' } }, rows)).toBeCloseTo(7816 / 3523, 6);
  });

  it('reads every other row, and a rewrite whose comparator was not measured, against its own native figure', () => {
    expect(warmOverNativeAsRun(fp32, rows)).toBeCloseTo(9580 / 6695, 6);
    expect(warmOverNativeAsRun(q4, [q4])).toBeCloseTo(7816 / 3338, 6);
    // Another model's fp32 row is not this one's.
    expect(warmOverNativeAsRun(q4, [{ ...fp32, model: 'scale:qwen2.5-0.5b' }, q4])).toBeCloseTo(7816 / 3338, 6);
    expect(warmOverNativeAsRun({ model: 'slm-pocket', dtype: 'fp32', warm_load_ms: 5234 }, rows)).toBeNull();
  });
});
