/**
 * Paired decode comparisons: two bare workers (two harness pages) loaded side by side, answering in
 * turn (A B, B A, …), the figure the median over the pairs of A's rate ÷ B's. Why paired: a
 * model's steady rate moves by ±30% between sittings on this machine (reference fp32 cold samples
 * 845/657/575 tok/s in one run), so two separate sittings cannot place a 10% difference.
 *
 * `threads_auto_vs_best` of the embedded rows: Auto's thread count against the other count,
 * capped at 1 (Auto at least as fast). In the 2026-11-30 full run the unpaired figure read 0.72
 * for reference fp32, where Auto kept 1 thread and native also found 1 thread the faster (828
 * against 612 tok/s). The app decides in alternating pairs; the bench checks it the same way.
 */
import { median, medianInterval } from '../../src/metrics/stats.ts';
import { harnessDecode, harnessLoad, harnessPrefill, openHarness } from './browser.mjs';

/**
 * `a` and `b`: harnessLoad options (source, dtype, threads, warmup). One pair first, not counted: each side's first answer after its load.
 * `measure`: 'decode' (tokens answered, decode tok/s) or 'prefill' (PREFILL_PROMPT prefilled whole, prefill tok/s).
 */
export async function pairedDecode(browser, base, a, b, { pairs = 8, tokens = 128, measure = 'decode' } = {}) {
  const sides = { a: await openHarness(browser, base), b: await openHarness(browser, base) };
  try {
    await harnessLoad(sides.a.page, { device: 'wasm', ...a });
    await harnessLoad(sides.b.page, { device: 'wasm', ...b });
    const ratios = [];
    const tps = { a: [], b: [] };
    for (let i = 0; i <= pairs; i++) {
      const got = {};
      for (const k of i % 2 ? ['b', 'a'] : ['a', 'b']) got[k] = measure === 'prefill' ? (await harnessPrefill(sides[k].page)).prefillTps : (await harnessDecode(sides[k].page, tokens)).decodeTps;
      if (i === 0) continue;
      ratios.push(got.a / got.b);
      tps.a.push(got.a);
      tps.b.push(got.b);
    }
    return { ratio: median(ratios), ratios: ratios.map(r2), a_tps: median(tps.a), b_tps: median(tps.b) };
  } finally {
    await sides.a.context.close();
    await sides.b.context.close();
  }
}
const r2 = (x) => Math.round(x * 100) / 100;

export async function pairedAutoVsOther(browser, base, { source, dtype, warmup, auto, other, pairs = 8, tokens = 128 }) {
  const p = await pairedDecode(browser, base, { source, dtype, threads: auto, warmup }, { source, dtype, threads: other, warmup }, { pairs, tokens });
  // The median's 95% interval (order statistics): an upper end under 0.95 says Auto's count is slower
  // beyond the pairs' scatter; a median under 0.95 with an upper end above it does not.
  const ci = medianInterval(p.ratios);
  return { auto_vs_other: p.ratio, auto_vs_best: Math.min(1, p.ratio), auto_vs_best_ci: ci && [Math.min(1, ci.low), Math.min(1, ci.high)], ratios: p.ratios };
}
