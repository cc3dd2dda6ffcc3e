/** Maps whatever a load or a generation throws onto one typed, user-actionable EngineError. */
import { GrammarError } from '../../../inference/grammar';
import type { EngineError, EngineErrorCode } from '../protocol';

export class EngineFailure extends Error {
  constructor(readonly error: EngineError) {
    super(error.message);
  }
}

export function fail(code: EngineErrorCode, message: string, extra: Omit<EngineError, 'code' | 'message'> = {}): never {
  throw new EngineFailure({ code, message, ...extra });
}

function text(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (typeof e === 'number') return `ONNX Runtime error code ${e}`;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

/** Classifies an error thrown while creating the model (after the preflight found every file). */
export function classifyLoadError(e: unknown, ctx: { modelId: string; weightsFile: string; device: string; dtype: string }): EngineError {
  if (e instanceof EngineFailure) return e.error;
  const detail = text(e);
  const d = detail.toLowerCase();
  if (d.includes('protobuf parsing failed') || d.includes('invalid protobuf') || d.includes('failed to load model') || d.includes('model_proto') || d.includes('invalid model')) {
    return {
      code: 'corrupt-model',
      message: `${ctx.weightsFile} of ${ctx.modelId} is not a valid ONNX model (corrupted or truncated download?). Delete it from the cache and load again.`,
      detail,
      file: ctx.weightsFile,
    };
  }
  if (d.includes('tokenizer')) {
    return { code: 'tokenizer-missing', message: `The tokenizer of ${ctx.modelId} could not be read.`, detail };
  }
  if (d.includes('out of memory') || d.includes('memory access out of bounds') || d.includes('allocation failed') || d.includes('rangeerror: array buffer allocation')) {
    return {
      code: 'out-of-memory',
      message: `Not enough memory to load ${ctx.modelId} as ${ctx.dtype} on ${ctx.device}. Try a smaller dtype (q4) or a smaller model.`,
      detail,
    };
  }
  if (d.includes('webgpu') || d.includes('no available backend') || d.includes('shader-f16')) {
    return {
      code: 'unsupported-device',
      message: `${ctx.device} could not run ${ctx.modelId} as ${ctx.dtype}. Try WASM, or another dtype.`,
      detail,
    };
  }
  if (d.includes('unsupported model type') || d.includes('not supported') || d.includes('could not find an implementation')) {
    return { code: 'unsupported-model', message: `${ctx.modelId} is not a text-generation model that transformers.js can run.`, detail };
  }
  if (d.includes('failed to fetch') || d.includes('networkerror') || d.includes('network error')) {
    return { code: 'network', message: `The network failed while loading ${ctx.modelId}.`, detail };
  }
  return { code: 'internal', message: `Loading ${ctx.modelId} failed: ${detail.slice(0, 300)}`, detail };
}

export function classifyGenerateError(e: unknown): EngineError {
  if (e instanceof EngineFailure) return e.error;
  if (e instanceof GrammarError) return { code: 'invalid-request', message: e.message };
  const detail = text(e);
  if (/out of memory|allocation failed/i.test(detail)) {
    return { code: 'out-of-memory', message: 'The model ran out of memory while generating. Shorten the conversation or use a smaller dtype.', detail };
  }
  return { code: 'internal', message: `Generation failed: ${detail.slice(0, 300)}`, detail };
}
