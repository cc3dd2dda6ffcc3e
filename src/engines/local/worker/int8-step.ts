/**
 * Whether a load decodes with the int8 step of our own (src/inference/int8-session.ts) and with which weights:
 * on WASM, a q8 model, or a q4 one, whose 4-bit weights the app then rewrites to int8 at load (dtypes.ts
 * rewriteLimits: with the step, q4 always becomes int8; the step computes what the rewritten graph does, faster).
 * The step reads the model's bytes in ONNX Runtime Web's place (external-weights.ts stepFirstNext), if int8-llama.ts
 * recognises the layout; then no ONNX Runtime session is made. Otherwise the reason, shown in the Load panel.
 */
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
