/**
 * Pure statistics for evaluation results: confidence intervals for accuracy, percentiles for
 * latency, and the break-even point between a local model's one-time cost and a hosted model's
 * per-request time. No I/O, no clocks; every function is total (bad input → null, not NaN).
 */

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a proportion (successes out of n), at z standard deviations (1.96 ≈
 * 95%). Unlike the textbook p ± z·√(p(1−p)/n) it stays inside [0, 1] and does not collapse to a
 * zero-width interval at 0/n or n/n — which matters for the small suites people actually run.
 * Null when n = 0 or the counts are not 0 ≤ successes ≤ n.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): Interval | null {
  if (!Number.isFinite(successes) || !Number.isFinite(n) || !Number.isFinite(z) || n <= 0 || successes < 0 || successes > n) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return {
    low: successes === 0 ? 0 : Math.max(0, center - half),
    high: successes === n ? 1 : Math.min(1, center + half),
  };
}

function finiteSorted(values: readonly number[]): number[] {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

/**
 * The p-th percentile (p in 0..100) with linear interpolation between the closest ranks — numpy's
 * default (`method="linear"`): rank = p/100 · (n − 1). Non-finite values are ignored; null when no
 * value is left or p is outside 0..100.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!Number.isFinite(p) || p < 0 || p > 100) return null;
  const v = finiteSorted(values);
  if (v.length === 0) return null;
  const rank = (p / 100) * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = v[lo] as number;
  const b = v[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

/**
 * A distribution-free confidence interval for the median: the k-th smallest and k-th largest of
 * the finite values, k the largest rank whose binomial tail P(Binomial(n, ½) < k) is at most
 * (1 − confidence) / 2, so the interval covers the true median at least `confidence` of the time
 * whatever the values' distribution. Null when fewer values than that takes (6 at 95%: below that
 * no pair of order statistics covers it).
 *
 * Why (issue 12, `threads_auto_vs_best`): a toy model's pairs of thread counts scatter ±30% each,
 * and the median of 16 moved 0.97–1.07 between repeats of the same comparison; the interval says
 * whether a median under 0.95 is a slower choice or that scatter.
 */
export function medianInterval(values: readonly number[], confidence = 0.95): Interval | null {
  const v = finiteSorted(values);
  const n = v.length;
  if (n === 0 || !(confidence > 0 && confidence < 1)) return null;
  const tail = (1 - confidence) / 2;
  // cdf(j) = P(Binomial(n, ½) ≤ j), built term by term from log C(n, j) − n·log 2 (2^−n itself
  // underflows past n = 1074, which would leave cdf at 0 and the interval inverted).
  let logTerm = -n * Math.LN2;
  let cdf = Math.exp(logTerm);
  let k = 0;
  for (let j = 0; j < n && cdf <= tail; j++) {
    k = j + 1;
    logTerm += Math.log((n - j) / (j + 1));
    cdf += Math.exp(logTerm);
  }
  if (k === 0) return null;
  return { low: v[k - 1] as number, high: v[n - k] as number };
}

/** Arithmetic mean of the finite values; null when there are none. */
export function mean(values: readonly number[]): number | null {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  return v.reduce((s, x) => s + x, 0) / v.length;
}

export interface BreakEvenInput {
  /** What the local model pays once: download + session creation + warm-up (ms). */
  oneTimeMs: number;
  /** Typical time per request on the local model (ms), e.g. the median end-to-end time. */
  localPerRequestMs: number;
  /** Typical time per request on the hosted model (ms). */
  hostedPerRequestMs: number;
}

/**
 * After how many requests local has paid back its download/load time: the smallest whole N ≥ 1
 * with N·local + oneTime ≤ N·hosted. Null when local is not faster per request (it never pays
 * back) or an input is not a finite, non-negative number. 1 when there is nothing to pay back.
 */
export function breakEven({ oneTimeMs, localPerRequestMs, hostedPerRequestMs }: BreakEvenInput): number | null {
  const ins = [oneTimeMs, localPerRequestMs, hostedPerRequestMs];
  if (ins.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0)) return null;
  const saved = hostedPerRequestMs - localPerRequestMs;
  if (saved <= 0) return null;
  let n = Math.max(1, Math.ceil(oneTimeMs / saved));
  // Division can land a hair above a whole number (3.0000000000000004 → 4): step back when N − 1
  // already satisfies the inequality up to rounding.
  if (n > 1 && (n - 1) * saved >= oneTimeMs * (1 - 1e-12)) n -= 1;
  return Number.isFinite(n) ? n : null;
}
