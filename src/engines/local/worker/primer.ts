/**
 * The kernel primer: while a large model's file is still being read, run a tiny model of the same
 * kind (the embedded slm-pocket, exported by the same tools/slm code, in the dtype whose kernels
 * the big model will use) in this worker's ONNX Runtime, so that V8 optimises ONNX Runtime's hot
 * WASM functions during the read instead of during the warm-up, and ONNX Runtime's own start (its
 * WASM instance and thread pool) happens then too. It stops when the model's session is about to
 * be created (external-weights.ts awaits `stop()` first), or after `PRIMER_MAX_MS`.
 *
 * Measured reason (2026-11-30, 135M shape, 2 threads, warm load through the app's store in a
 * persistent profile, scripts/bench/load-ab.mjs): the warm-up's first windows ran at about half
 * speed (q8: a 3-token window 71–105 ms, then 39–40 ms once optimised; fp32 windows 1–9 slow) and
 * its 64-token prefill probe took 363–478 ms against 73 ms natively, while the worker thread sat
 * idle through the 0.3–1.6 s read before it. Results of this change: docs/performance.md.
 */
import type { Dtype } from '../../../models/dtypes';
import type { PrimerReport } from '../protocol';
import { createPrimerSession, gateNextCreate } from './external-weights';
import { warmupSettled } from './warmup-rule';

type Ort = typeof import('onnxruntime-web/webgpu');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
type Tensor = InstanceType<Ort['Tensor']>;

/** Priming ends here at the latest (a cold download over a slow network may last minutes). */
export const PRIMER_MAX_MS = 2500;
/** Models whose files are smaller than this skip it: their read is over in milliseconds. */
export const PRIMER_MIN_MODEL_BYTES = 32 * 1024 * 1024;
/** Each round: a prefill of this many tokens, then one-token decode steps up to `ROUND_POSITIONS`. */
const PREFILL_TOKENS = 8;
const ROUND_POSITIONS = 24;
/** Stopped once its rounds' speed has settled (the warm-up's rule, without its floor). */
const SETTLE_RULE = { minTokens: 0, minDecodeMs: 0 };

/** The primer's file for a model of `dtype` (q4: what the rewrite makes of it, `rewriteTo`), or null: nothing to prime. */
export function primerFile(dtype: Dtype, rewriteTo: 'fp32' | 'int8' | null): string | null {
  if (dtype === 'fp32' || (dtype === 'q4' && rewriteTo === 'fp32')) return 'model.onnx';
  if (dtype === 'q8' || dtype === 'int8' || dtype === 'uint8' || (dtype === 'q4' && rewriteTo === 'int8')) return 'model_quantized.onnx';
  return null;
}

interface PocketShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
}

function shapeOf(config: Record<string, unknown>): PocketShape | null {
  const n = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : null);
  const layers = n('num_hidden_layers');
  const heads = n('num_attention_heads');
  const hidden = n('hidden_size');
  const kvHeads = n('num_key_value_heads') ?? heads;
  const headDim = n('head_dim') ?? (hidden && heads ? hidden / heads : null);
  const vocab = n('vocab_size');
  return layers && kvHeads && headDim && vocab ? { layers, kvHeads, headDim, vocab } : null;
}

/** Yields to the worker's task queue (the read's chunks arrive as tasks; a microtask loop would starve them). */
function yieldTask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

export class KernelPrimer {
  private stopping = false;
  /** Its report once it has ended: settled, at its cap, stopped, or skipped. */
  readonly ended: Promise<PrimerReport>;

  /** `create`: ONNX Runtime's session creation, not the app's recorded one (primes must not count as the model's). */
  constructor(ort: Ort, modelUrl: string, configUrl: string, create: (bytes: Uint8Array) => Promise<Session>) {
    this.ended = this.run(ort, modelUrl, configUrl, create);
    // Never an unhandled rejection: run() reports its failures in the result.
    this.ended.catch(() => undefined);
  }

  /** Stops priming (after the step in flight) and frees its session. */
  stop(): Promise<PrimerReport> {
    this.stopping = true;
    return this.ended;
  }

  private async run(ort: Ort, modelUrl: string, configUrl: string, create: (bytes: Uint8Array) => Promise<Session>): Promise<PrimerReport> {
    const t0 = performance.now();
    const report = (runs: number, tokens: number, skipped: string | null, runMs = 0): PrimerReport => ({ ms: performance.now() - t0, runMs, runs, tokens, skipped });
    let session: Session | null = null;
    try {
      const [modelRes, configRes] = await Promise.all([fetch(modelUrl), fetch(configUrl)]);
      if (!modelRes.ok || !configRes.ok) return report(0, 0, `its files could not be fetched (HTTP ${modelRes.ok ? configRes.status : modelRes.status})`);
      const shape = shapeOf((await configRes.json()) as Record<string, unknown>);
      if (!shape) return report(0, 0, 'its config.json lacks the decoder shape');
      const bytes = new Uint8Array(await modelRes.arrayBuffer());
      if (this.stopping) return report(0, 0, 'the model was read first');
      session = await create(bytes);
      let runs = 0;
      let tokens = 0;
      const r0 = performance.now();
      const speeds: number[] = [];
      let settled = false;
      while (!this.stopping && !settled && performance.now() - t0 < PRIMER_MAX_MS) {
        const t = performance.now();
        const n = await this.round(ort, session, shape, () => {
          runs++;
          return this.stopping || performance.now() - t0 >= PRIMER_MAX_MS;
        });
        tokens += n;
        speeds.push((n * 1000) / Math.max(1e-3, performance.now() - t));
        settled = warmupSettled(speeds, tokens, 0, SETTLE_RULE);
      }
      return { ...report(runs, tokens, null, performance.now() - r0), settled };
    } catch (e) {
      return report(0, 0, `it failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await session?.release().catch(() => undefined);
    }
  }

  /** One prefill, then decode steps that feed the present KV back as the past; returns the tokens run. */
  private async round(ort: Ort, session: Session, s: PocketShape, stepDone: () => boolean): Promise<number> {
    const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, values.length]);
    let past = new Map<string, Tensor>();
    for (let l = 0; l < s.layers; l++) {
      for (const kv of ['key', 'value']) past.set(`past_key_values.${l}.${kv}`, new ort.Tensor('float32', new Float32Array(0), [1, s.kvHeads, 0, s.headDim]));
    }
    let pos = 0;
    let tokens = 0;
    while (pos < ROUND_POSITIONS) {
      const n = pos === 0 ? PREFILL_TOKENS : 1;
      const ids = Array.from({ length: n }, (_, i) => (pos + i) * 7 % s.vocab);
      const feeds: Record<string, Tensor> = {};
      for (const name of session.inputNames) {
        if (name === 'input_ids') feeds[name] = int64(ids);
        else if (name === 'attention_mask') feeds[name] = int64(new Array<number>(pos + n).fill(1));
        else if (name === 'position_ids') feeds[name] = int64(ids.map((_, i) => pos + i));
        else {
          const t = past.get(name);
          if (!t) throw new Error(`unexpected input ${name}`);
          feeds[name] = t;
        }
      }
      const out = await session.run(feeds);
      const next = new Map<string, Tensor>();
      for (const [name, t] of Object.entries(out)) {
        if (name.startsWith('present.')) next.set(`past_key_values.${name.slice('present.'.length)}`, t as Tensor);
        else (t as Tensor).dispose();
      }
      for (const t of past.values()) t.dispose();
      past = next;
      pos += n;
      tokens += n;
      if (stepDone()) break;
      await yieldTask();
    }
    for (const t of past.values()) t.dispose();
    return tokens;
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
  const primer = new KernelPrimer(ort, new URL(`onnx/${file}`, dir).href, new URL('config.json', dir).href, createPrimerSession);
  gateNextCreate(() => primer.stop());
  return primer;
}
