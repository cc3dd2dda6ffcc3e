/**
 * The kernel primer: while a large model's file is still being read, run a tiny model of the same
 * kind (the embedded slm-pocket, exported by the same tools/slm code, in the dtype whose kernels
 * the big model will use) in this worker's ONNX Runtime, so that V8 optimises ONNX Runtime's hot
 * WASM functions during the read instead of during the warm-up, and ONNX Runtime's own start (its
 * WASM instance and thread pool) happens then too. It stops once settled, when the model's session
 * is about to be created and `PRIMER_GRACE_MS` more did not settle it (external-weights.ts awaits
 * `finish()` first), or after `PRIMER_MAX_MS`. It runs the app's own decode loop
 * (src/inference/kv-decoder.ts: prefill, then one `session.run` per token on its KV cache, greedy),
 * so the loop's JavaScript is optimised too.
 *
 * Measured reason (2026-11-30, 135M shape, 2 threads, warm load through the app's store in a
 * persistent profile, scripts/bench/load-ab.mjs): the warm-up's first windows ran at about half
 * speed (q8: a 3-token window 71–105 ms, then 39–40 ms once optimised; fp32 windows 1–9 slow) and
 * its 64-token prefill probe took 363–478 ms against 73 ms natively, while the worker thread sat
 * idle through the 0.3–1.6 s read before it. Results of this change: docs/performance.md.
 */
import { KvDecoder, planKvDecoder } from '../../../inference/kv-decoder';
import { outputHookAvailable } from '../../../inference/output-pool';
import { DEFAULT_GENERATION } from '../../../inference/params';
import { decodeSettings } from '../../../inference/settings';
import type { Dtype } from '../../../models/dtypes';
import type { PrimerReport } from '../protocol';
import { createPrimerSession, gateNextCreate } from './external-weights';
import { warmupSettled } from './warmup-rule';

type Ort = typeof import('onnxruntime-web/webgpu');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** Priming ends here at the latest (a cold download over a slow network may last minutes). */
export const PRIMER_MAX_MS = 2500;
/**
 * How much longer an unsettled primer may run once the model's session is about to be created.
 * Measured reason (2026-12-01): a fast read (135M q4, 0.7 s) stopped the primer unsettled, so the
 * warm-up kept its 1 s floor instead of 500 ms (planAfterPrimer); figures in docs/performance.md.
 */
export const PRIMER_GRACE_MS = 400;
/** Models whose files are smaller than this skip it: their read is over in milliseconds. */
export const PRIMER_MIN_MODEL_BYTES = 32 * 1024 * 1024;
/** Each round: a prefill of this many tokens, then one-token decode steps up to `ROUND_POSITIONS` (17 runs). */
const PREFILL_TOKENS = 8;
const ROUND_POSITIONS = 24;
/** Greedy, one new token per run after the prefill's: the last run fills position ROUND_POSITIONS − 1. */
const ROUND = decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: ROUND_POSITIONS - PREFILL_TOKENS + 1 }, null);
/** Stopped once its rounds' speed has settled (the warm-up's rule, without its floor). */
const SETTLE_RULE = { minTokens: 0, minDecodeMs: 0 };

/** The primer's file for a model of `dtype` (q4: what the rewrite makes of it, `rewriteTo`), or null: nothing to prime. */
export function primerFile(dtype: Dtype, rewriteTo: 'fp32' | 'int8' | null): string | null {
  if (dtype === 'fp32' || (dtype === 'q4' && rewriteTo === 'fp32')) return 'model.onnx';
  if (dtype === 'q8' || dtype === 'int8' || dtype === 'uint8' || (dtype === 'q4' && rewriteTo === 'int8')) return 'model_quantized.onnx';
  return null;
}

export class KernelPrimer {
  private stopping = false;
  /** performance.now() past which it stops (finish()). */
  private deadline = Infinity;
  /** Its report once it has ended: settled, at its cap, stopped, or skipped. */
  readonly ended: Promise<PrimerReport>;

  /** `create`: ONNX Runtime's session creation, not the app's recorded one (primes must not count as the model's). */
  constructor(ort: Ort, modelUrl: string, create: (bytes: Uint8Array) => Promise<Session>) {
    this.ended = this.run(ort, modelUrl, create);
    // Never an unhandled rejection: run() reports its failures in the result.
    this.ended.catch(() => undefined);
  }

  /** Stops priming (after the step in flight) and frees its session. */
  stop(): Promise<PrimerReport> {
    this.stopping = true;
    return this.ended;
  }

  /** Lets it run until it settles, for at most `graceMs` more, then stops it as `stop()` does. */
  finish(graceMs: number): Promise<PrimerReport> {
    this.deadline = Math.min(this.deadline, performance.now() + graceMs);
    return this.ended;
  }

  private async run(ort: Ort, modelUrl: string, create: (bytes: Uint8Array) => Promise<Session>): Promise<PrimerReport> {
    const t0 = performance.now();
    const report = (runs: number, tokens: number, skipped: string | null, runMs = 0): PrimerReport => ({ ms: performance.now() - t0, runMs, runs, tokens, skipped });
    let session: Session | null = null;
    try {
      const res = await fetch(modelUrl);
      if (!res.ok) return report(0, 0, `its model file could not be fetched (HTTP ${res.status})`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const over = () => this.stopping || performance.now() >= this.deadline || performance.now() - t0 >= PRIMER_MAX_MS;
      if (over()) return report(0, 0, 'the model was read first');
      session = await create(bytes);
      const plan = planKvDecoder(session);
      if ('reason' in plan) return report(0, 0, `its model does not fit the decode loop: ${plan.reason}`);
      const decoder = new KvDecoder(session, plan.layout, (type, data, dims) => new ort.Tensor(type, data, dims), outputHookAvailable());
      const promptIds = Array.from({ length: PREFILL_TOKENS }, (_, i) => (i * 7) % plan.layout.vocab);
      let runs = 0;
      let tokens = 0;
      const r0 = performance.now();
      const speeds: number[] = [];
      let settled = false;
      while (!over() && !settled) {
        const t = performance.now();
        // A task turn after every token (yieldEveryMs 0): the read's chunks arrive as tasks.
        const r = await decoder.generate({ promptIds, maxNewTokens: ROUND.maxNewTokens, sampling: ROUND.sampling, eosTokenIds: [], onToken: () => undefined, shouldStop: over, yieldEveryMs: 0 });
        runs += r.steps;
        tokens += r.final.length;
        // A round cut short (stopped, or at the cap) is not a measurement: its speed would settle the
        // rule on a partial round (CI, 2026-12-01: "settled" after 98 runs, 5 rounds and 13 steps).
        if (over()) break;
        speeds.push((r.final.length * 1000) / Math.max(1e-3, performance.now() - t));
        settled = warmupSettled(speeds, tokens, 0, SETTLE_RULE);
      }
      return { ...report(runs, tokens, null, performance.now() - r0), settled };
    } catch (e) {
      return report(0, 0, `it failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await session?.release().catch(() => undefined);
    }
  }
}

/**
 * Starts priming for a WASM load of `dtype` whose files total `modelBytes`, with the embedded
 * slm-pocket under `appBase`; null where nothing is primed (a small model, or a dtype with no
 * matching primer). The next session created (the model's) waits for it to stop.
 */
export async function startPrimer(dtype: Dtype, rewriteTo: 'fp32' | 'int8' | null, modelBytes: number, appBase: string): Promise<KernelPrimer | null> {
  const file = primerFile(dtype, rewriteTo);
  if (!file || modelBytes < PRIMER_MIN_MODEL_BYTES) return null;
  const ort = await import('onnxruntime-web/webgpu');
  const dir = new URL('models/slm-pocket/', appBase);
  const primer = new KernelPrimer(ort, new URL(`onnx/${file}`, dir).href, createPrimerSession);
  gateNextCreate(() => primer.finish(PRIMER_GRACE_MS));
  return primer;
}
