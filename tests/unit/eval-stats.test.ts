import { describe, expect, it } from 'vitest';
import { breakEven, mean, median, percentile, wilsonInterval } from '../../src/metrics/stats';

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
