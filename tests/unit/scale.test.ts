/** Axis helpers of the report's SVG charts (src/lib/scale.ts). */
import { describe, expect, it } from 'vitest';
import { linear, niceTicks } from '../../src/lib/scale';

describe('niceTicks', () => {
  it('covers the range with round steps of 1, 2 or 5 × 10ⁿ', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 347, 5)).toEqual([0, 50, 100, 150, 200, 250, 300, 350]);
    expect(niceTicks(0, 1234, 5)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400]);
    expect(niceTicks(120, 480, 4)).toEqual([100, 200, 300, 400, 500]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('starts at or below lo and ends at or above hi', () => {
    for (const [lo, hi] of [[0, 7], [3, 9_999], [0.5, 0.51], [17, 17]] as const) {
      const t = niceTicks(lo, hi, 5);
      expect(t[0]).toBeLessThanOrEqual(lo);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(hi);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(12);
    }
  });

  it('counts: whole steps only', () => {
    expect(niceTicks(0, 3, 5, true)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0, 1, 4, true)).toEqual([0, 1]);
    expect(niceTicks(0, 17, 4, true)).toEqual([0, 5, 10, 15, 20]);
  });

  it('refuses bounds that are not numbers', () => {
    expect(() => niceTicks(0, Number.NaN)).toThrow(/finite/);
  });
});

describe('linear', () => {
  it('maps the domain onto the range, inverted ranges included', () => {
    const y = linear([0, 100], [200, 10]);
    expect(y(0)).toBe(200);
    expect(y(100)).toBe(10);
    expect(y(50)).toBe(105);
  });
  it('maps a zero-width domain to the middle', () => {
    expect(linear([5, 5], [0, 10])(5)).toBe(5);
  });
});
