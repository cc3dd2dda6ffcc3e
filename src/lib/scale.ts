/** Axis helpers for the report's hand-drawn SVG charts: round tick values and a linear map. */

/**
 * About `count` round tick values (1, 2 or 5 × 10ⁿ apart) covering [lo, hi]; the first tick is
 * ≤ lo and the last ≥ hi, so they double as the axis domain. `integer` keeps steps ≥ 1 (counts).
 */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceTicks: bounds must be finite (got ${lo}, ${hi})`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const err = raw / pow;
  let step = (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1) * pow;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  // Rounded to the step's decimals so 0.1 + 0.2 does not print as 0.30000000000000004.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let i = 0; ; i++) {
    const v = Number((first + i * step).toFixed(decimals));
    ticks.push(v);
    if (v >= hi) return ticks;
  }
}

/** Maps [d0, d1] onto [r0, r1] linearly (a zero-width domain maps to the middle of the range). */
export function linear([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}
