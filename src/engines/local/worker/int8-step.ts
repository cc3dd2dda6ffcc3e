/**
 * Whether a load decodes with the int8 step of our own (src/inference/int8-session.ts) and with which weights:
 * on WASM, a q8 model, or a q4 one, whose 4-bit weights the app then rewrites to int8 at load (dtypes.ts
 * rewriteLimits: with the step, q4 always becomes int8; the step computes what the rewritten graph does, faster).
 * The step reads the model's bytes in ONNX Runtime Web's place (external-weights.ts stepFirstNext), if int8-llama.ts
 * recognises the layout; then no ONNX Runtime session is made. Otherwise the reason, shown in the Load panel.
 */
import type { Int8Helper, Int8HelperInit } from '../../../inference/int8-threads';
import type { LoadRequest } from '../protocol';

/** Why q4 is left to ONNX Runtime: its weights were not made int8 at load. */
function q4NotInt8(rewriteTo: 'fp32' | 'int8' | null): string {
  return rewriteTo === 'fp32'
    ? 'q4 runs exact fp32 matmuls for this load; the int8 step takes q4 only where the app computes it in int8'
    : 'q4 keeps its 4-bit kernel for this load (its weights as int8 would pass the rewrite\'s bound, or their size is unknown)';
}

/**
 * Why this load cannot use the int8 step, or null when it may (its model bytes are then kept). `rewriteTo`: what the
 * memory estimate expects q4's rewrite to make (src/models/memory.ts), null when none.
 */
export function int8StepBlocker(req: Pick<LoadRequest, 'device' | 'dtype' | 'int8Step'>, rewriteTo: 'fp32' | 'int8' | null): string | null {
  if (req.int8Step === false) return 'the int8 step was turned off for this load';
  if (req.device !== 'wasm') return 'the int8 step runs on WASM';
  if (req.dtype === 'q4') return rewriteTo === 'int8' ? null : q4NotInt8(rewriteTo);
  if (req.dtype !== 'q8' && req.dtype !== 'int8') return `the int8 step runs 8-bit models (q8, and q4 where it is computed in int8), not ${req.dtype}`;
  return null;
}

/**
 * Why a load does not run on the step, where the step did not read its model (external-weights.ts stepFirstNext):
 * the request's blocker, the step's own refusal of the file, or a model that did not reach the worker as one buffer.
 */
export function int8StepNotRun(blocker: string | null, refusal: string | null): { reason: string } {
  return { reason: blocker ?? refusal ?? 'the model file did not reach this worker as one buffer' };
}

/** How long a helper worker may take to start and instantiate the kernel (ms) before the step runs alone. */
const HELPER_START_MS = 10_000;

/**
 * The step's second thread in the browser (src/inference/int8-threads.ts): a worker of its own on the step's
 * shared memory (int8-helper.worker.ts). Needs a cross-origin isolated page (the step asks only there).
 */
export function spawnWorkerHelper(init: Int8HelperInit): Int8Helper {
  const w = new Worker(new URL('./int8-helper.worker.ts', import.meta.url), { type: 'module', name: 'slm-int8-helper' });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`it did not answer within ${HELPER_START_MS / 1000} s`)), HELPER_START_MS);
    w.addEventListener('message', (ev: MessageEvent<unknown>) => {
      clearTimeout(timer);
      if (ev.data === 'ready') resolve();
      else reject(new Error(String(ev.data)));
    });
    w.addEventListener('error', (ev) => {
      clearTimeout(timer);
      reject(new Error(ev.message || 'its worker could not start'));
    });
  });
  w.postMessage(init);
  return { ready, terminate: () => w.terminate() };
}
