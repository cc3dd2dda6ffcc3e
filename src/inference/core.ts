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
 * And the KV cache across generations (kv-cache.ts): with `cache` limits, each generation starts
 * from the kept state with the longest common prefix and keeps its own final state.
 * Over 300 lines, one idea: every decode goes through here; the loop, the step, sampling and the cache live in
 * their own files.
 */
import type * as HF from '@huggingface/transformers';
import { KvDecoder, kvDecoderFor, type DecodeStats, type OrtTensorLike } from './kv-decoder';
import type { Int8Llama } from './int8-llama';
import { Int8Session } from './int8-session';
import type { Int8KernelBuild } from './int8-kernel';
import type { Int8HelperSpawn } from './int8-threads';
import { runGenerate, type CausalLM, type TransformersLib } from './hf-generate';
import { KvPrefixCache, type KvCacheLimits, type KvCacheStats, type KvLookup, type KvPayloadOps } from './kv-cache';
import type { StepConstraint } from './sampling';
import type { DecodeSettings } from './settings';

export type DecodeLoop = 'kv-loop' | 'generate';
/** What runs a one-token step of the KV loop: ONNX Runtime's session, or the int8 step of our own (int8-session.ts). */
export type DecodeEngine = 'onnxruntime' | 'int8-step';
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
  /** Keep KV states across generations within these limits (kv-cache.ts); absent: every prompt is prefilled whole. */
  cache?: KvCacheLimits;
  /** Why there is no cache (kv-cache.ts: kvReuseBlocker), reported with each generation. */
  cacheOffReason?: string | null;
  /**
   * Limits for keeping KV states where the int8 step runs the decode and `cache` is absent: the step runs prompts
   * row by row (int8-session.ts), so a reused state gives the tokens a whole prefill gives, even for q8.
   */
  stepCache?: KvCacheLimits;
  /**
   * The model's weights for the int8 step (int8-llama.ts readInt8Llama), or why there are none: the KV loop's
   * runs then go through the step (int8-session.ts).
   */
  int8?: Int8Llama | { reason: string };
  /**
   * Starts the int8 step's second thread (int8-threads.ts: half of each matrix's outputs and of the attention's
   * heads; the same numbers as one thread). null or absent: the step runs on one thread.
   */
  int8Helper?: Int8HelperSpawn | null;
  /** false: the int8 step's plain-SIMD kernel even where relaxed SIMD's int8 dot is exact (int8-kernel.ts). */
  int8Relaxed?: boolean;
}

/** How the prompt was prefilled. */
export interface PrefillReport {
  /** Prompt tokens run through the model / taken from a kept KV state. */
  computed: number;
  reused: number;
  /** Tokens of the kept state the prompt was compared with (kv-cache.ts KvLookup); 0: none kept or no cache. */
  kept: number;
  /** Why no state could be reused or kept, where the engine alone can tell (cache off, a state it could not cut); null otherwise. */
  note: string | null;
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
  prefill: PrefillReport;
  /**
   * With a grammar: whether the structure was complete (the grammar accepted end-of-sequence).
   * Ending on max new tokens or a stop leaves it incomplete ("incomplete JSON"). null: no grammar.
   */
  grammarComplete: boolean | null;
}

/** Per generation: reuse off (the benchmark's baseline) still keeps nothing and reuses nothing. */
export interface GenerateOptions {
  reuse?: boolean;
  /**
   * A grammar the output must follow (grammar.ts: GrammarCache.constraint). Tokens it forbids are
   * masked before every choice, on both loops; it alone decides where the answer ends, so min new
   * tokens does not apply.
   */
  constraint?: StepConstraint | null;
}

type TensorCtor = new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => OrtTensorLike;

function isTensorCtor(x: unknown): x is TensorCtor {
  return typeof x === 'function';
}

/** The KV loop for `model`, or why it is not used; and what runs its steps, with why not the int8 step. */
export function chooseLoop(lib: TransformersLib, model: CausalLM, opts: GeneratorOptions): { decoder: KvDecoder | null; reason: string | null; engine: DecodeEngine; engineReason: string | null } {
  const chosen = chooseOrtLoop(lib, model, opts);
  const int8 = opts.int8;
  if (!int8) return { ...chosen, engine: 'onnxruntime', engineReason: 'the int8 step was not asked for' };
  if ('reason' in int8) return { ...chosen, engine: 'onnxruntime', engineReason: int8.reason };
  if (!chosen.decoder) return { ...chosen, engine: 'onnxruntime', engineReason: `the int8 step runs inside the KV loop, which this model does not use (${chosen.reason ?? 'no reason given'})` };
  const { decoder } = chosen;
  let session: Int8Session;
  try {
    session = new Int8Session(decoder.session, int8, decoder.makeTensor, opts.int8Helper ?? null, { relaxed: opts.int8Relaxed ?? true });
  } catch (e) {
    // Its memory could not grow (a big model on a small device): ONNX Runtime decodes, as without it.
    return { ...chosen, engine: 'onnxruntime', engineReason: `the int8 step could not be set up (${e instanceof Error ? e.message : String(e)})` };
  }
  return { decoder: new KvDecoder(session, decoder.layout, decoder.makeTensor, false), reason: null, engine: 'int8-step', engineReason: null };
}

function chooseOrtLoop(lib: TransformersLib, model: CausalLM, opts: GeneratorOptions): { decoder: KvDecoder | null; reason: string | null } {
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
  readonly engine: DecodeEngine;
  /** Why the int8 step does not run the decode, when it does not. */
  readonly engineReason: string | null;
  private readonly kv: KvDecoder | null;
  /** The limits states are kept within (opts.cache, or opts.stepCache on the int8 step); null: none kept. */
  private readonly cache: KvCacheLimits | null;
  private readonly eos: ReadonlySet<number>;
  private readonly ortCache: KvPrefixCache<OrtTensorLike[]> | null = null;
  private readonly hfCache: KvPrefixCache<HF.DynamicCache> | null = null;

  constructor(
    private readonly lib: TransformersLib,
    private readonly model: CausalLM,
    private readonly opts: GeneratorOptions,
  ) {
    const { decoder, reason, engine, engineReason } = chooseLoop(lib, model, opts);
    this.kv = decoder;
    this.reason = reason;
    this.engine = engine;
    this.engineReason = engineReason;
    this.loop = decoder ? 'kv-loop' : 'generate';
    this.eos = new Set(opts.eosTokenIds);
    this.cache = opts.cache ?? (engine === 'int8-step' ? opts.stepCache : undefined) ?? null;
    if (this.cache && decoder) this.ortCache = new KvPrefixCache(ortOps(decoder), this.cache);
    else if (this.cache) this.hfCache = new KvPrefixCache(hfOps(lib), this.cache);
  }

  /** The kept states' statistics; null when nothing is kept. */
  cacheStats(): KvCacheStats | null {
    return (this.ortCache ?? this.hfCache)?.stats() ?? null;
  }

  /** Frees every kept state (unload, or a caller that wants a cold start). */
  clearCache(): void {
    this.ortCache?.clear();
    this.hfCache?.clear();
  }

  /**
   * The int8 step once its helper serves jobs or could not start: the bytes of its WebAssembly memory (weights,
   * scratch, KV state) and its threads, with why one where two were asked for; null when it does not run.
   */
  async int8Step(): Promise<{ memoryBytes: number; threads: number; note: string | null; kernel: Int8KernelBuild; kernelNote: string | null } | null> {
    const s = this.kv?.session;
    if (!(s instanceof Int8Session)) return null;
    await s.threadsReady;
    return { memoryBytes: s.memoryBytes, threads: s.threads, note: s.threadNote, kernel: s.kernel, kernelNote: s.kernelNote };
  }

  /** Frees every kept state and ends the int8 step's helper thread: the generator is not used again. */
  dispose(): void {
    this.clearCache();
    const s = this.kv?.session;
    if (s instanceof Int8Session) s.dispose();
  }

  /** Whether the KV loop writes its outputs into reused buffers. */
  get pooling(): boolean {
    return this.kv?.pooling ?? false;
  }

  async generate(promptIds: readonly number[], settings: DecodeSettings, hooks: GenerationHooks, options: GenerateOptions = {}): Promise<GenerationResult> {
    const reuse = options.reuse ?? true;
    const constraint = options.constraint ?? null;
    if (constraint) settings = { ...settings, sampling: { ...settings.sampling, minNewTokens: 0 } };
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
    const n0 = promptIds.length;
    let prefill: PrefillReport = { computed: n0, reused: 0, kept: 0, note: this.cache ? (reuse ? null : 'reuse of the KV cache is off') : (this.opts.cacheOffReason ?? 'this engine keeps no KV cache') };
    if (this.kv) {
      const start = reuse ? (this.ortCache?.take(promptIds) ?? null) : null;
      const { final, ...stats } = await this.kv.generate({
        ...(start ? { start: { past: start.payload, length: start.length } } : {}),
        promptIds,
        maxNewTokens: settings.maxNewTokens,
        sampling: { ...settings.sampling, minNewTokens: Math.min(settings.sampling.minNewTokens, settings.maxNewTokens) },
        eosTokenIds: this.opts.eosTokenIds,
        onToken: put,
        shouldStop,
        ...(random ? { random } : {}),
        ...(hooks.yieldEveryMs !== undefined ? { yieldEveryMs: hooks.yieldEveryMs } : {}),
        constraint,
      });
      decodeStats = stats;
      if (reuse && this.ortCache) prefill = lookupReport(n0, start?.length ?? 0, this.ortCache.lastLookup);
      if (reuse) this.ortCache?.put([...promptIds, ...ids].slice(0, final.length), final.past);
    } else {
      const start = reuse ? (this.hfCache?.take(promptIds) ?? null) : null;
      let past: HF.DynamicCache | null = null;
      try {
        past = await runGenerate(this.lib, this.model, { promptIds, settings, onToken: put, shouldStop, past: start?.payload ?? null, keepCache: reuse && this.hfCache !== null, constraint });
      } catch (e) {
        if (start) void start.payload.dispose();
        throw e;
      }
      if (reuse && this.hfCache) prefill = lookupReport(n0, start?.length ?? 0, this.hfCache.lastLookup);
      if (past) {
        const length = past.get_seq_length();
        this.hfCache?.put([...promptIds, ...ids].slice(0, length), past);
      }
    }
    const last = ids.at(-1);
    const endedByEos = last !== undefined && this.eos.has(last);
    if (endedByEos) ids.pop();
    stopKind ??= hooks.shouldStop();
    return { ids, finishReason: finishReason(endedByEos, stopKind), decodeStats, prefill, grammarComplete: constraint ? constraint.terminated : null };
  }
}

/**
 * The prefill of a prompt of `n` tokens that reused `reused` of them. On WebGPU a kept state lives
 * in GPU buffers that cannot be cut here (hfOps below), so a conversation that changed before its
 * end prefills whole: the note says so, with how much it shared.
 */
export function lookupReport(n: number, reused: number, lookup: KvLookup): PrefillReport {
  const note = lookup.cutFailed ? `the kept state is on the GPU, where it cannot be cut to the ${lookup.shared} tokens shared with it` : null;
  return { computed: n - reused, reused, kept: lookup.kept, note };
}

/** The KV loop's states: immutable ONNX Runtime tensors, cut by copying. */
function ortOps(decoder: KvDecoder): KvPayloadOps<OrtTensorLike[]> {
  return {
    bytes: (p) => KvDecoder.bytes(p),
    truncate: (p, from, to) => decoder.truncate(p, from, to),
    dispose: () => {},
    immutable: true,
  };
}

/** generate()'s DynamicCache: updated in place by generate(); a state on the GPU cannot be cut here. */
function hfOps(lib: TransformersLib): KvPayloadOps<HF.DynamicCache> {
  const tensors = (c: HF.DynamicCache): [string, HF.Tensor][] => Object.entries(c).filter((e): e is [string, HF.Tensor] => e[1] instanceof lib.Tensor);
  return {
    bytes: (c) => tensors(c).reduce((n, [, t]) => n + t.size * (t.type === 'float16' ? 2 : 4), 0),
    truncate: (c, _from, to) => {
      const all = tensors(c);
      if (all.some(([, t]) => t.location === 'gpu-buffer' || t.dims.length !== 4)) return null;
      return new lib.DynamicCache(Object.fromEntries(all.map(([k, t]) => [k, t.slice(null, null, [0, to], null)])));
    },
    dispose: (c) => void c.dispose(),
    immutable: false,
  };
}

/** The finish rule (see the header): end-of-sequence first, then the caller's stop, then length. */
export function finishReason(endedByEos: boolean, stop: StopKind | null): CoreFinishReason {
  if (endedByEos) return 'stop';
  return stop ?? 'length';
}
