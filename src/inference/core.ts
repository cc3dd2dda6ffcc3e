/**
 * The one generation core. The browser worker, the reference server and the benchmark's native
 * baseline all decode through `TokenGenerator`; nothing else calls a decode loop or generate().
 *
 * It owns: the choice of loop and its reason (the KV loop of kv-decoder.ts on WASM/CPU where the
 * session has the standard layout, transformers.js's generate() otherwise and on WebGPU), the
 * adapters to generate() (hf-generate.ts, with top-p, which transformers.js lacks), the seeding
 * of sampling, and the end-of-sequence and finish rules:
 *   - end-of-sequence ends generation (after min new tokens) and is not part of the output;
 *   - finish reason: 'stop' when the last token was end-of-sequence; otherwise what the caller's
 *     `shouldStop` answered ('stop' for its own stop rule, e.g. a stop string; 'abort' for a
 *     cancel), asked once more at the end; otherwise 'length'.
 */
import { kvDecoderFor, type DecodeStats, type KvDecoder, type OrtTensorLike } from './kv-decoder';
import { runGenerate, type CausalLM, type TransformersLib } from './hf-generate';
import type { DecodeSettings } from './settings';

export type DecodeLoop = 'kv-loop' | 'generate';
export type StopKind = 'stop' | 'abort';
export type CoreFinishReason = 'stop' | 'length' | 'abort';

export interface GeneratorOptions {
  /** Where the session runs: WebGPU keeps its KV cache on the GPU, so it always uses generate(). */
  device: 'wasm' | 'webgpu' | 'cpu';
  eosTokenIds: readonly number[];
  /** Whether ONNX Runtime carries the output hook (output-pool.ts): only a Vite-built ONNX Runtime Web. */
  pooled: boolean;
  /** 'generate' forces transformers.js's generate() (the benchmark measures both loops). */
  loop?: 'auto' | 'generate';
}

export interface GenerationHooks {
  /** Every generated token except end-of-sequence, right after it is chosen. */
  onToken: (id: number) => void;
  /** Asked after every token; a kind ends generation with that reason. */
  shouldStop: () => StopKind | null;
  /**
   * Where a stop can only arrive as a message, let the event loop run this often (ms); the KV loop
   * otherwise runs in microtasks (see kv-decoder.ts).
   */
  yieldEveryMs?: number;
}

export interface GenerationResult {
  /** Generated token ids, without a final end-of-sequence token. */
  ids: number[];
  finishReason: CoreFinishReason;
  /** What the KV loop did; null when generate() ran. */
  decodeStats: DecodeStats | null;
}

type TensorCtor = new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => OrtTensorLike;

function isTensorCtor(x: unknown): x is TensorCtor {
  return typeof x === 'function';
}

/** The KV loop for `model`, or why it is not used. */
export function chooseLoop(lib: TransformersLib, model: CausalLM, opts: GeneratorOptions): { decoder: KvDecoder | null; reason: string | null } {
  if (opts.loop === 'generate') return { decoder: null, reason: 'generate() was asked for' };
  if (opts.device === 'webgpu') return { decoder: null, reason: 'WebGPU runs through transformers.js (its KV cache stays on the GPU)' };
  // ONNX Runtime's own Tensor class, taken from a tensor transformers.js made: wrapping every step's
  // inputs in transformers.js Tensors (a Proxy each) only adds garbage, and garbage collection is
  // what the decode loop's slowest steps were spent on here (docs/performance.md).
  const OrtTensor: unknown = new lib.Tensor('float32', new Float32Array(0), [0]).ort_tensor.constructor;
  if (!isTensorCtor(OrtTensor)) return { decoder: null, reason: "ONNX Runtime's Tensor class is not reachable" };
  return kvDecoderFor(model, (type, data, dims) => new OrtTensor(type, data, dims), opts.pooled);
}

export class TokenGenerator {
  readonly loop: DecodeLoop;
  /** Why the KV loop is not used, when it is not. */
  readonly reason: string | null;
  private readonly kv: KvDecoder | null;
  private readonly eos: ReadonlySet<number>;

  constructor(
    private readonly lib: TransformersLib,
    private readonly model: CausalLM,
    private readonly opts: GeneratorOptions,
  ) {
    const { decoder, reason } = chooseLoop(lib, model, opts);
    this.kv = decoder;
    this.reason = reason;
    this.loop = decoder ? 'kv-loop' : 'generate';
    this.eos = new Set(opts.eosTokenIds);
  }

  /** Whether the KV loop writes its outputs into reused buffers. */
  get pooling(): boolean {
    return this.kv?.pooling ?? false;
  }

  async generate(promptIds: readonly number[], settings: DecodeSettings, hooks: GenerationHooks): Promise<GenerationResult> {
    const ids: number[] = [];
    let stopKind: StopKind | null = null;
    const put = (id: number) => {
      ids.push(id);
      if (!this.eos.has(id)) hooks.onToken(id);
    };
    const shouldStop = () => {
      stopKind ??= hooks.shouldStop();
      return stopKind !== null;
    };
    let random: (() => number) | undefined;
    if (settings.sampling.doSample && settings.seed !== undefined) {
      this.lib.random.seed(settings.seed ?? undefined);
      random = () => this.lib.random.random();
    }
    let decodeStats: DecodeStats | null = null;
    if (this.kv) {
      decodeStats = await this.kv.generate({
        promptIds,
        maxNewTokens: settings.maxNewTokens,
        sampling: { ...settings.sampling, minNewTokens: Math.min(settings.sampling.minNewTokens, settings.maxNewTokens) },
        eosTokenIds: this.opts.eosTokenIds,
        onToken: put,
        shouldStop,
        ...(random ? { random } : {}),
        ...(hooks.yieldEveryMs !== undefined ? { yieldEveryMs: hooks.yieldEveryMs } : {}),
      });
    } else {
      await runGenerate(this.lib, this.model, { promptIds, settings, onToken: put, shouldStop });
    }
    const last = ids.at(-1);
    const endedByEos = last !== undefined && this.eos.has(last);
    if (endedByEos) ids.pop();
    stopKind ??= hooks.shouldStop();
    return { ids, finishReason: finishReason(endedByEos, stopKind), decodeStats };
  }
}

/** The finish rule (see the header): end-of-sequence first, then the caller's stop, then length. */
export function finishReason(endedByEos: boolean, stop: StopKind | null): CoreFinishReason {
  if (endedByEos) return 'stop';
  return stop ?? 'length';
}
