/**
 * The dtypes of one scale model against each other in the browser, paired (thread-pairs.mjs:
 * two bare workers side by side, answering in turn). Each dtype is paired with one reference (q4
 * where the shape has it): `q4_over_q8_browser` (issue 12: q4 ≥ 0.9 × q8) and
 * `dtype_over_fastest_browser` (docs/performance.md's proposed reading of "no dtype is a trap": a
 * dtype decodes at ≥ 0.8 × the fastest dtype of the same model in the same browser; first-touch.ts).
 * Why paired: the rows' steady figures come from sittings minutes apart, and on this machine a
 * row's steady rate moves by more than the 10% the target allows between sittings. Measured
 * 2026-12-01 (135M, 2 threads): the unpaired q4 ÷ q8 read 0.88 in a full run (q4 18.2, q8 20.6
 * tok/s, measured ~8 min apart), the paired one 1.10 (pairs 0.99–1.29) the same day.
 */
import { overFastest } from './first-touch.ts';
import { pairedDecode } from './thread-pairs.mjs';

/** Sets the pair fields on `rows` (the scale rows of one shape, each at its Auto thread count). */
export async function pairDtypes({ browser, base, source, warmup, rows, label, log, r2, pairs = 6, tokens = 64 }) {
  if (rows.length < 2) return;
  const ref = rows.find((r) => r.dtype === 'q4') ?? rows[0];
  const side = (row) => ({ source, dtype: row.dtype, threads: row.threads, warmup });
  const rel = {};
  for (const row of rows) {
    if (row === ref) continue;
    log(`${label}: ${ref.dtype} against ${row.dtype} in the bare worker, in pairs…`);
    const p = await pairedDecode(browser, base, side(ref), side(row), { pairs, tokens });
    rel[row.dtype] = 1 / p.ratio;
    if (ref.dtype === 'q4' && row.dtype === 'q8') {
      ref.q4_over_q8_paired = r2(p.ratio);
      ref.q4_over_q8_pairs = p.ratios;
      ref.q4_over_q8_unpaired = r2(ref.browser_decode_tps_steady / row.browser_decode_tps_steady);
    }
    row[`${ref.dtype}_over_this_paired`] = r2(p.ratio);
    row[`${ref.dtype}_over_this_pairs`] = p.ratios;
    log(`${label}: ${ref.dtype} ÷ ${row.dtype} ${r2(p.ratio)} in pairs (${p.ratios.join(', ')}); ${r2(ref.browser_decode_tps_steady / row.browser_decode_tps_steady)} from the two rows`);
  }
  const over = overFastest(ref.dtype, rel);
  for (const row of rows) row.dtype_over_fastest_browser = over[row.dtype] === undefined ? null : r2(over[row.dtype]);
  log(`${label}: each dtype ÷ the fastest, paired: ${rows.map((r) => `${r.dtype} ${r.dtype_over_fastest_browser}`).join(', ')}`);
}
