/**
 * The warm-up policy. V8 first runs fresh WASM code in its baseline tier (Liftoff) and optimises a
 * function (TurboFan) only after it has used up an execution budget; WebGPU compiles its shaders on
 * first use. Measured here: without warm-up the first decode tokens ran 5–8x slower than steady
 * state. So before "ready": forward passes over a long prompt (each runs the matmul kernels many
 * times, using up their budgets fastest; ~150 ms of them in all, see `nextPrefillPass`; none after a
 * kernel primer that settled, which ran them during the read: `planAfterPrimer`), then short
 * answers (at most 129 tokens, so the context stays as short as a real one; cut into windows of
 * ~120 ms, 3–128 tokens, as they decode: `WindowClock`) through exactly the path a real answer
 * takes: the same loop, stop signal (shared memory when the page has it), detokenizer and batching,
 * with the text going nowhere. Measured: when the warm-up ran a different path (no interrupt flag,
 * an extra stopping callback) the first real answer was de-optimised and ran at half speed. Done
 * when the speed has settled (warmup-rule.ts: the median of the last three windows within 5% of the
 * three before, after `minTokens` tokens or `minDecodeMs` of decoding, whichever comes first), or at
 * the bounds.
 */
import type { TokenGenerator } from '../../../inference/core';
import { decodeSettings } from '../../../inference/settings';
import { DEFAULT_GENERATION } from '../../../inference/params';
import type { BatchingStream } from '../../../inference/streamer';
import { median } from '../../../metrics/stats';
import type { ChatMessage } from '../../types';
import type { WarmupPlan } from '../protocol';
import { StopSignal, tracedRun } from './traced-run';
import { ANSWER_TOKENS, nextPrefillPass, PREFILL_PROBE_TOKENS, warmupSettled, WindowClock } from './warmup-rule';

/** The warm-up's stand-in for the page's flush interval (one display frame). */
const WARMUP_FLUSH_MS = 16;
const FILLER = 'The quick brown fox jumps over the lazy dog. 0123456789 ';

export interface WarmupTarget {
  generator: TokenGenerator;
  maxContext: number | null;
  /** The conversation as prompt ids, through the model's chat template. */
  template: (messages: ChatMessage[]) => number[];
  /** The batching detokenizer a real answer streams through. */
  stream: (sink: (text: string, count: number) => void, flushIntervalMs: number) => BatchingStream;
}

export interface WarmupResult {
  warmupMs: number;
  warmupTokens: number;
  /** The steady decode speed reached: the median of the last three answers (tokens/s). */
  warmupDecodeTps: number | null;
  /** The plan it ran (the request's after planAfterPrimer). */
  warmupPlan: WarmupPlan;
}

const now = () => performance.now();
const discardText = (_text: string, _count: number): void => undefined;

/** Greedy, exactly `n` tokens (end-of-sequence ignored). */
const fixed = (n: number) => decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: n, minNewTokens: n }, null);

export async function warmUp(m: WarmupTarget, plan: WarmupPlan, sharedMemory: boolean): Promise<WarmupResult> {
  const start = now();
  const deadline = start + plan.maxMs;
  const ctx = m.maxContext ?? 2048;
  const flag = sharedMemory ? new SharedArrayBuffer(4) : null;
  if (plan.prefillPasses > 0) {
    const long = m.template([{ role: 'user', content: FILLER.repeat(64) }]);
    const cut = long.slice(0, Math.min(long.length, Math.floor(ctx / 2), 512));
    const oneToken = decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: 1 }, null);
    let spent = 0;
    let len = Math.min(PREFILL_PROBE_TOKENS, cut.length);
    for (let i = 0; i <= plan.prefillPasses && len > 0 && now() - start < plan.maxMs / 2; i++) {
      const t0 = now();
      await tracedRun(m.generator, cut.slice(0, len), oneToken, new StopSignal(flag, deadline), null, false);
      const ms = now() - t0;
      spent += ms;
      len = nextPrefillPass(spent, ms, len, cut.length);
    }
  }
  const prompt = m.template([{ role: 'user', content: 'Hello! What is 12 + 7?' }]);
  const room = Math.max(1, ctx - prompt.length - 1);
  let tokens = 0;
  let decodeMs = 0;
  const speeds: number[] = [];
  let settled = false;
  // Answers of up to ANSWER_TOKENS, cut into ~120 ms windows as they decode (WindowClock); the
  // answer in flight is stopped through its stop signal, as a user's Stop would, once they settle.
  while (!settled && tokens < plan.maxTokens && now() < deadline) {
    const n = Math.min(ANSWER_TOKENS, room, plan.maxTokens - tokens);
    const batch = m.stream(discardText, WARMUP_FLUSH_MS);
    const stop = new StopSignal(flag, deadline);
    const clock = new WindowClock(speeds.at(-1) ?? null, n - 1);
    let answered = 0;
    const trace = await tracedRun(m.generator, prompt, fixed(n), stop, (tok) => {
      batch.add(tok);
      answered++;
      const w = clock.token(now());
      if (!w || settled) return;
      decodeMs += w.ms;
      speeds.push(w.tps);
      settled = warmupSettled(speeds, tokens + answered, decodeMs, plan);
      if (settled) stop.requested = true;
    });
    batch.flush();
    tokens += trace.ids.length;
    // An answer too short for a window (a tiny context) cannot settle anything.
    if (trace.ids.length < 2) break;
  }
  // The steady speed it reached: the median of the last three windows (one 128-token answer of a
  // small model lasts ~60 ms, so a single one is at the mercy of a stray pause).
  return { warmupMs: now() - start, warmupTokens: tokens, warmupDecodeTps: median(speeds.slice(-3)), warmupPlan: plan };
}
