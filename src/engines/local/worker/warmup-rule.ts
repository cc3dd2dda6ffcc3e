/**
 * When the warm-up stops (pure; warmup.ts runs it). The warm-up decodes short answers ("windows")
 * and stops once the decode speed has stopped rising: the median of the last `STABLE_WINDOWS`
 * windows is not more than `TOLERANCE` above the median of the `STABLE_WINDOWS` before them, after
 * a floor of either `minTokens` tokens or `minDecodeMs` of decoding, whichever comes first.
 * Medians of groups, not "each within 5% of the best window": on a busy machine (load 15 on 2
 * cores) one lucky window set a bar the next ones never reached, and the warm-up ran to its 6 s cap.
 *
 * Measured reasons: V8 tiers a WASM function up after it has used an execution budget, so what
 * matters is how often the kernels ran, not how many tokens were made. A toy model's token runs
 * each kernel a few times (~0.5 ms a token): it needs ~1,000 tokens (the old fixed floor; first
 * answers ran 5–8x slower without it). A 135M-shape model's token runs every kernel thousands of
 * times: its speed is flat after a handful of tokens, yet the fixed floor made it decode until the
 * 6 s cap (35–65% of a 9–10 s warm load, issue 12). The time floor keeps the toy models' warm-up
 * as it was (1,024 tokens take ~0.5 s there) and ends a large model's after ~1 s of decoding.
 */

import type { PrimerReport, WarmupPlan } from '../protocol';

export interface WarmupStopRule {
  minTokens: number;
  minDecodeMs: number;
}

/** Windows per group compared. */
export const STABLE_WINDOWS = 3;
/** The last group may be at most this much faster than the one before (fraction). */
export const TOLERANCE = 0.05;
/** A window lasts about this long (ms), so that its speed is not one timer tick's noise. */
export const WINDOW_MS = 120;
/**
 * 3, not 6 (2026-11-30): at the Qwen2.5-0.5B shape (22 tok/s, 2 threads) a 6-token window lasted
 * ~270 ms, so the six windows the rule compares took 48–54 tokens and 3.8–4.6 s; with 3 the
 * warm-up took 21–42 tokens and 2.5–3.4 s, and the first answer after ready decoded as fast
 * (21.5–22.3 tok/s against 20.6–21.8; 3 loads each, alternated). 135M q8: 2.5–2.6 s against
 * 2.7–2.8 s, first answers 49–51 tok/s both. Models over ~50 tok/s get windows of 120 ms anyway.
 */
export const MIN_WINDOW_TOKENS = 3;
export const MAX_WINDOW_TOKENS = 128;

/** Tokens in the next window, from the last window's speed (tokens/s; null before the first). */
export function windowTokens(lastTps: number | null): number {
  if (lastTps === null || !(lastTps > 0)) return MIN_WINDOW_TOKENS * 2;
  return Math.max(MIN_WINDOW_TOKENS, Math.min(MAX_WINDOW_TOKENS, Math.round((lastTps * WINDOW_MS) / 1000)));
}

/** Tokens a warm-up answer may run to: windows are cut inside it, so one slow model's answer holds them all. */
export const ANSWER_TOKENS = MAX_WINDOW_TOKENS + 1;

/** A window of an answer: its decode speed, its length, and the tokens it decoded. */
export interface Window {
  tps: number;
  ms: number;
  tokens: number;
}

/**
 * Cuts one answer's token times into windows: each `windowTokens(last speed)` tokens long, timed
 * from the token before it (the answer's first token, which carries the prefill, only opens the
 * first window). What is left at the answer's end is not a window.
 *
 * Measured reason (2026-12-01, 135M shape, 2 threads, warm loads through the store): one answer a
 * window prefilled the warm-up's prompt again for every window (q8 keeps no KV state: 55–65 ms a
 * window, half the wall time of a 120 ms window); cut inside one answer, the prompt is prefilled
 * once. Figures in docs/performance.md.
 */
export class WindowClock {
  private open: number | null = null;
  private count = 0;
  private want: number;

  /** `maxTokens`: the most a window may hold (an answer of n tokens holds a window of n − 1 at most). */
  constructor(lastTps: number | null, private readonly maxTokens = MAX_WINDOW_TOKENS) {
    this.want = Math.max(1, Math.min(maxTokens, windowTokens(lastTps)));
  }

  /** A token decoded at time `t` (ms); the window it closes, or null. */
  token(t: number): Window | null {
    if (this.open === null) {
      this.open = t;
      return null;
    }
    this.count++;
    if (this.count < this.want) return null;
    const ms = t - this.open;
    const w = { tps: ms > 0 ? (this.count * 1000) / ms : Infinity, ms, tokens: this.count };
    this.open = t;
    this.count = 0;
    this.want = Math.max(1, Math.min(this.maxTokens, windowTokens(w.tps)));
    return w;
  }
}

/** Whether the speeds so far (tokens/s per window, in order) have settled, given the tokens and decode time spent. */
export function warmupSettled(speeds: readonly number[], tokens: number, decodeMs: number, rule: WarmupStopRule): boolean {
  if (speeds.length < 2 * STABLE_WINDOWS) return false;
  if (tokens < rule.minTokens && decodeMs < rule.minDecodeMs) return false;
  const last = median3(speeds.slice(-STABLE_WINDOWS));
  const before = median3(speeds.slice(-2 * STABLE_WINDOWS, -STABLE_WINDOWS));
  return last <= before * (1 + TOLERANCE);
}

function median3(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The prefill passes before the windows: a 64-token probe, then long passes until they have run
 * `PREFILL_BUDGET_MS` in all (at most `prefillPasses` of them). A toy model's probe takes a few ms,
 * so it gets its full-length passes as before. A large model's probe shows how long a token takes,
 * and the next pass is sized to what is left of the budget, or skipped when that is less than
 * the probe itself. Measured reason (2026-11-30, 135M q8, 2 threads, bare worker): on a warm load the
 * probe took 141–142 ms, just under the old "one pass of 150 ms is enough" bar, so a 512-token pass
 * followed and cost 1.41–1.46 s, 40% of the warm-up, with the kernels already at steady speed.
 */
export const PREFILL_BUDGET_MS = 150;
export const PREFILL_PROBE_TOKENS = 64;

/** Tokens of the next prefill pass, or 0 to stop: after passes of `spentMs` in all, the last one `lastTokens` tokens in `lastMs`. */
export function nextPrefillPass(spentMs: number, lastMs: number, lastTokens: number, longTokens: number): number {
  const left = PREFILL_BUDGET_MS - spentMs;
  if (left <= 0 || lastTokens <= 0) return 0;
  const perToken = lastMs / lastTokens;
  const want = perToken > 0 ? Math.floor(left / perToken) : longTokens;
  return want < PREFILL_PROBE_TOKENS ? 0 : Math.min(longTokens, want);
}

/**
 * The decode floor after a kernel primer that settled (worker/primer.ts): V8 has optimised ONNX
 * Runtime's kernels during the read, so the floor that waited for it can be shorter. Measured
 * (2026-11-30, warm loads through the store in persistent profiles, 2 threads, 500 against 1000 ms,
 * same build, alternated): warm-up 135M fp32 1.14–1.45 s against 1.59–1.68, q8 1.09–1.39 against
 * 1.84–1.91, q4 1.03–1.09 against 1.64–1.67, 0.5B q4 1.52–1.55 against 2.03–2.04; the first 64-token
 * answer after ready ran at 0.98–1.01 of the next two answers' best in the same page, against
 * 0.97–1.03 with the 1 s floor. Without the primer (before it existed) the same 500 ms floor left
 * first answers at 0.95–0.97 of steady: V8 was still optimising.
 */
export const PRIMED_MIN_DECODE_MS = 500;

/**
 * The warm-up plan for a load whose primer reported `primer` (null: none ran). A primer that
 * settled also takes the prefill passes' place: it ran the same kernels' prefill path (its rounds
 * begin with a prefill) until V8 had optimised them, and at scale the 64-token probe alone is long.
 * Measured (2026-12-02, warm loads through the store in persistent profiles, 2 threads, the same
 * build with and without the passes after a settled primer, alternated): warm-up 135M q4 1.28–1.78 s
 * (median 1.46, 8 loads) against 0.91–1.15 (1.03, 9 loads), 135M fp32 1.45–1.55 against 0.88–0.93,
 * 0.5B q4 2.19–2.34 against 1.59–1.66; the first answer's time to first token unchanged (135M q4
 * 134–237 ms against 135–231); its decode speed over the same page's next two answers' best
 * 0.89–1.02 (median 0.99) against 0.82–1.10 (0.97) at 135M q4, 0.97–0.98 against 0.96–0.97 at
 * fp32, 0.95–0.96 against 0.94–1.08 at 0.5B. Loads without a settled primer (toy models have none:
 * their read is over in milliseconds) keep the passes.
 */
export function planAfterPrimer(plan: WarmupPlan, primer: PrimerReport | null): WarmupPlan {
  return primer?.settled ? { ...plan, minDecodeMs: Math.min(plan.minDecodeMs, PRIMED_MIN_DECODE_MS), prefillPasses: 0 } : plan;
}

/** Decode tokens the warm-up runs when the int8 step decodes (`planForInt8Step`): one short answer. */
export const INT8_STEP_WARMUP_TOKENS = 16;

/**
 * The plan when the int8 step of our own decodes (src/inference/int8-session.ts): its prompt passes as planned
 * (prompts still run on ONNX Runtime), then one short answer instead of windows until the speed settles.
 * Measured (2026-12-04, 135M q8, 2 threads, loads alternated): with no warm-up at all the first answer decoded at
 * 115-126 tok/s and the next three at 114-138; with the rule's windows (a 150 ms floor) the warm-up took 0.9 s and
 * 96 tokens for a first answer no faster (132). Its kernels are one small WebAssembly module that every token runs
 * hundreds of times; the one answer still takes the whole path once before the user's question does.
 */
export function planForInt8Step(plan: WarmupPlan): WarmupPlan {
  return { ...plan, maxTokens: Math.min(plan.maxTokens, INT8_STEP_WARMUP_TOKENS) };
}
