import { describe, expect, it } from 'vitest';
import { breakEven, mean, median, medianInterval, percentile, wilsonInterval } from '../../src/metrics/stats';

describe('wilsonInterval', () => {
  // Hand-computed: center = (p + z²/2n) / (1 + z²/n), half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n), z = 1.96.
  it('8/10 → [0.4902, 0.9433]', () => {
    const ci = wilsonInterval(8, 10);
    expect(ci?.low).toBeCloseTo(0.4902, 4);
    expect(ci?.high).toBeCloseTo(0.9433, 4);
  });
  it('50/100 → [0.4038, 0.5962]', () => {
    const ci = wilsonInterval(50, 100);
    expect(ci?.low).toBeCloseTo(0.4038, 4);
    expect(ci?.high).toBeCloseTo(0.5962, 4);
  });
  it('0/10 → [0, 0.2775] and 10/10 → [0.7225, 1]: never zero width, never outside [0, 1]', () => {
    expect(wilsonInterval(0, 10)?.low).toBe(0);
    expect(wilsonInterval(0, 10)?.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10)?.low).toBeCloseTo(0.7225, 4);
    expect(wilsonInterval(10, 10)?.high).toBe(1);
  });
  it('a different z widens or narrows it', () => {
    const ci = wilsonInterval(8, 10, 1);
    // z = 1: center = (0.8 + 0.05) / 1.1, half = √(0.016 + 0.0025) / 1.1
    // = 0.77273 ∓ 0.12365 → [0.6491, 0.8964], narrower than the 95% [0.4902, 0.9433].
    expect(ci?.low).toBeCloseTo(0.6491, 4);
    expect(ci?.high).toBeCloseTo(0.8964, 4);
  });
  it('is null for n = 0 or impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonInterval(11, 10)).toBeNull();
    expect(wilsonInterval(-1, 10)).toBeNull();
    expect(wilsonInterval(Number.NaN, 10)).toBeNull();
  });
});

describe('percentile (numpy linear)', () => {
  it('matches numpy.percentile', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
    expect(percentile([10, 20, 30], 90)).toBeCloseTo(28, 12);
    expect(percentile([30, 10, 20], 25)).toBe(15); // sorts first
  });
  it('single value, empty, non-finite, bad p', () => {
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([Number.NaN, Infinity, 5, 1, -Infinity], 50)).toBe(3);
    expect(percentile([Number.NaN], 50)).toBeNull();
    expect(percentile([1, 2], 101)).toBeNull();
  });
  it('median and mean', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([1, Number.NaN, 3])).toBe(2);
    expect(mean([])).toBeNull();
  });
});

describe('breakEven', () => {
  it('is the smallest N with N·local + oneTime ≤ N·hosted', () => {
    // 10 × 200 + 1000 = 3000 = 10 × 300 (9 requests: 2800 > 2700).
    expect(breakEven({ oneTimeMs: 1000, localPerRequestMs: 200, hostedPerRequestMs: 300 })).toBe(10);
    expect(breakEven({ oneTimeMs: 1001, localPerRequestMs: 200, hostedPerRequestMs: 300 })).toBe(11);
    expect(breakEven({ oneTimeMs: 5000, localPerRequestMs: 100, hostedPerRequestMs: 1100 })).toBe(5);
    expect(breakEven({ oneTimeMs: 1, localPerRequestMs: 100, hostedPerRequestMs: 1100 })).toBe(1);
    expect(breakEven({ oneTimeMs: 0, localPerRequestMs: 1, hostedPerRequestMs: 2 })).toBe(1);
  });
  it('is not fooled by floating-point division (1.1 / 0.1 = 11.000000000000002)', () => {
    expect(breakEven({ oneTimeMs: 1.1, localPerRequestMs: 0, hostedPerRequestMs: 0.1 })).toBe(11);
    expect(breakEven({ oneTimeMs: 0.3, localPerRequestMs: 0, hostedPerRequestMs: 0.1 })).toBe(3);
  });
  it('never pays back when local is not faster per request, or inputs are bad', () => {
    expect(breakEven({ oneTimeMs: 1000, localPerRequestMs: 300, hostedPerRequestMs: 300 })).toBeNull();
    expect(breakEven({ oneTimeMs: 1000, localPerRequestMs: 400, hostedPerRequestMs: 300 })).toBeNull();
    expect(breakEven({ oneTimeMs: Number.NaN, localPerRequestMs: 1, hostedPerRequestMs: 2 })).toBeNull();
    expect(breakEven({ oneTimeMs: -5, localPerRequestMs: 1, hostedPerRequestMs: 2 })).toBeNull();
  });
});

describe('medianInterval (order statistics)', () => {
  it('takes the 4th smallest and 4th largest of 16 at 95% (binomial tail 0.0106 ≤ 0.025 < 0.0384)', () => {
    const pairs = [1.05, 0.9, 0.86, 0.87, 1.09, 0.85, 0.83, 0.88, 1.04, 1.13, 0.69, 0.92, 1.11, 0.95, 0.95, 1.04];
    expect(medianInterval(pairs)).toEqual({ low: 0.86, high: 1.05 });
  });

  it('is as wide as the data for 6 values at 95% (P = 1/64 per side) and null for 5 (1/32 > 0.025)', () => {
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual({ low: 1, high: 6 });
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5], 0.9)).toEqual({ low: 1, high: 5 });
  });

  it('narrows with more values and covers the median of the values it was given', () => {
    const many = Array.from({ length: 100 }, (_, i) => i + 1);
    // n = 100: P(B ≤ 39) = 0.0176 ≤ 0.025 < P(B ≤ 40) = 0.0284, so k = 40.
    expect(medianInterval(many)).toEqual({ low: 40, high: 61 });
    const m = median(many) as number;
    const iv = medianInterval(many) as { low: number; high: number };
    expect(iv.low).toBeLessThanOrEqual(m);
    expect(iv.high).toBeGreaterThanOrEqual(m);
  });

  it('stays ordered past the count where 2^-n underflows (n = 3,000: k = 1,447 by the normal approximation, ±2)', () => {
    const many = Array.from({ length: 3000 }, (_, i) => i + 1);
    const iv = medianInterval(many) as { low: number; high: number };
    expect(iv.low).toBeGreaterThanOrEqual(1445);
    expect(iv.low).toBeLessThanOrEqual(1449);
    expect(iv.high).toBe(3001 - iv.low);
  });

  it('ignores non-finite values and refuses a confidence outside (0, 1)', () => {
    expect(medianInterval([NaN, Infinity, 6, 1, 5, 2, 4, 3])).toEqual({ low: 1, high: 6 });
    expect(medianInterval([1, 2, 3, 4, 5, 6], 1)).toBeNull();
    expect(medianInterval([])).toBeNull();
  });
});
