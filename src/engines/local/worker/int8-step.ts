/**
 * Whether a load decodes with the int8 step of our own (src/inference/int8-session.ts) and with which weights:
 * on WASM, a q8 model, or a q4 one, whose 4-bit weights the app then rewrites to int8 at load (dtypes.ts
 * rewriteLimits: with the step, q4 always becomes int8; the step computes what the rewritten graph does, faster).
 * Read from the bytes ONNX Runtime Web's session was created from (external-weights.ts keeps them for this), if
 * int8-llama.ts recognises the layout. Otherwise the reason, shown in the Load panel.
 */
import type { Int8Llama } from '../../../inference/int8-llama';
import { readInt8Llama } from '../../../inference/int8-llama';
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

/** The step's weights from the kept bytes, or why there are none. `rewroteTo`: what the q4 rewrite made at load (null: none ran). */
export function int8StepWeights(blocker: string | null, bytes: Uint8Array | null, config: Record<string, unknown>, dtype: string, rewroteTo: 'fp32' | 'int8' | null): Int8Llama | { reason: string } {
  if (blocker) return { reason: blocker };
  if (dtype === 'q4' && rewroteTo !== 'int8') return { reason: q4NotInt8(rewroteTo) };
  if (!bytes) return { reason: 'the model file did not reach this worker as one buffer' };
  return readInt8Llama(bytes, config);
}
