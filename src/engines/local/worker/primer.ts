/**
 * The kernel primer: while a large model's file is read, a tiny model of the same kind (the embedded
 * slm-pocket, exported by the same tools/slm code, in the dtype whose kernels the big model will use)
 * runs in ONNX Runtime, so that V8 optimises ONNX Runtime's hot WASM functions during the read
 * instead of during the warm-up and the first answer. Where it runs (primer-helper.ts chooses):
 * - a download: in a worker of its own (primer.worker.ts), ONNX Runtime on one thread from the same
 *   .wasm bytes, which V8 compiles once for the page, so what it optimises there the model worker
 *   runs too; it settles only after `PRIMER_LIMITS.minRuns` steps;
 * - a read from the app's store (a returning user, Chromium's code cache warm): in the model worker
 *   itself (`startInModelWorker`), where ONNX Runtime's own start (its WASM instance and thread pool)
 *   happens during the read too; the model's session waits for it at most `PRIMER_GRACE_MS`.
 * It runs the app's own decode loop (src/inference/kv-decoder.ts: prefill, then one `session.run`
 * per token on its KV cache, greedy), so the loop's JavaScript is optimised too, and stops once
 * settled, when asked, or at its time cap.
 *
 * Measured reasons: docs/performance.md, "The kernel primer" (2026-11-30: on warm loads the warm-up's
 * first windows ran at half speed without it) and "The first answer after a first visit" (2026-12-02:
 * on a download, in the model worker it held that worker's thread while the download needed it and
 * ended before V8 had optimised the decode's largest function).
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

/** Where it runs, when it stops at the latest, and the steps it runs before its speed may count as settled. */
export interface PrimerLimits {
  worker: PrimerReport['worker'];
  maxMs: number;
  minRuns: number;
}

/**
 * In its own worker, beside a download: priming ends after 10 s at the latest (a download over a slow
 * network may last minutes), and not as settled before 200 steps. Measured reason (2026-12-02, V8's --trace-wasm-compilation-times in
 * Chromium 156, fresh profile): one function of ONNX Runtime's WASM (a 490 KB body, the largest
 * optimised one in both fp32 and q8 decode) took V8 4.0–4.5 s to optimise, and slm-pocket's decode
 * queued it after 96–128 steps; its rounds' speed had looked settled long before (six rounds are
 * 102 steps), so at 200 the queue has it. The optimising itself goes on after the primer stops.
 */
export const PRIMER_LIMITS: PrimerLimits = { worker: 'own', maxMs: 10_000, minRuns: 200 };
/**
 * In the model worker, beside a read from the store: 2.5 s at most, settled by its speed alone (the
 * code cache holds what V8 optimised on the first visit: first answers after a settled primer at
 * 0.98–1.01 of steady, 2026-11-30).
 */
export const IN_MODEL_WORKER_LIMITS: PrimerLimits = { worker: 'model', maxMs: 2500, minRuns: 0 };
/**
 * How much longer an unsettled primer in the model worker may run once the model's session is about
 * to be created. Measured reason (2026-12-01): a fast read (135M q4, 0.7 s) stopped the primer
 * unsettled, so the warm-up kept its 1 s floor instead of 500 ms (planAfterPrimer); docs/performance.md.
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

/** The report of a primer in its own worker that ran no step (the worker's side and the load's side both write it). */
export function ownWorkerNotRun(ms: number, skipped: string): PrimerReport {
  return { worker: 'own', ms, runMs: 0, runs: 0, tokens: 0, skipped };
}

export class KernelPrimer {
  private stopping = false;
  /** performance.now() past which it stops (finish()). */
  private deadline = Infinity;
  /** Its report once it has ended: settled, at its cap, stopped, or skipped. */
  readonly ended: Promise<PrimerReport>;

  /** `create`: ONNX Runtime's session creation for the small model. */
  constructor(ort: Ort, modelUrl: string, create: (bytes: Uint8Array) => Promise<Session>, private readonly limits: PrimerLimits = PRIMER_LIMITS) {
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
    const report = (runs: number, tokens: number, skipped: string | null, runMs = 0): PrimerReport => ({ worker: this.limits.worker, ms: performance.now() - t0, runMs, runs, tokens, skipped });
    let session: Session | null = null;
    try {
      const res = await fetch(modelUrl);
      if (!res.ok) return report(0, 0, `its model file could not be fetched (HTTP ${res.status})`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const over = () => this.stopping || performance.now() >= this.deadline || performance.now() - t0 >= this.limits.maxMs;
      if (over()) return report(0, 0, "the model's session began first");
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
        settled = runs >= this.limits.minRuns && warmupSettled(speeds, tokens, 0, SETTLE_RULE);
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
 * Starts priming in the model worker itself, with the embedded slm-pocket's `file` under `appBase`;
 * the next session created (the model's) waits for it to settle, at most PRIMER_GRACE_MS.
 */
export async function startInModelWorker(file: string, appBase: string): Promise<KernelPrimer> {
  const ort = await import('onnxruntime-web/webgpu');
  const primer = new KernelPrimer(ort, new URL(`models/slm-pocket/onnx/${file}`, appBase).href, createPrimerSession, IN_MODEL_WORKER_LIMITS);
  gateNextCreate(() => primer.finish(PRIMER_GRACE_MS));
  return primer;
}
