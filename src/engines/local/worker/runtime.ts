/**
 * The model runtime inside the worker: load (preflight → download → session → warm-up),
 * generate with streaming, interrupt, reset, unload. It owns at most one model at a time and
 * refuses overlapping work with a typed `busy` error instead of queueing it silently.
 */
import { median } from '../../../metrics/stats';
import { decodeRate } from '../../../metrics/timing';
import { DTYPE_SUFFIX, locate, sourceError } from '../../../models/sources';
import { validateGenerationParams, type ChatMessage, type GenerationParams } from '../../types';
import type { DecodeStats, FromWorker, GenerateOptions, GenerationDone, LoadRequest, LoadedInfo, WarmupPlan } from '../protocol';
import { classifyGenerateError, classifyLoadError, EngineFailure, fail } from './errors';
import { setupTransformers, type Transformers } from './ort-setup';
import { kvDecoderFor, type KvDecoder, type OrtTensorLike } from './kv-decoder';
import { outputHookAvailable } from './output-pool';
import { preflight } from './preflight';
import { samplingSettings } from './sampling';
import { BatchingStream, IncrementalDecoder } from './streamer';
import { errorText } from '../../../lib/errors';

type Post = (msg: FromWorker) => void;
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['AutoModelForCausalLM']['from_pretrained']>>;
type Tensor = InstanceType<Transformers['Tensor']>;
type Inputs = { input_ids: Tensor; attention_mask: Tensor };

interface Loaded {
  t: Transformers;
  tokenizer: Tokenizer;
  model: Model;
  /** The worker's own decode loop, where the model fits it (WASM); null: transformers.js's generate(). */
  kv: KvDecoder | null;
  info: LoadedInfo;
}

/**
 * A stop request: set by the `interrupt` message or, without a message round trip, by shared memory;
 * the warm-up also gives it a deadline. Real answers and the warm-up take the same branches here
 * (see warmUp: code the warm-up never ran would be de-optimised on the first real answer).
 */
class StopSignal {
  requested = false;
  private readonly flag: Int32Array | null;
  constructor(
    buffer: SharedArrayBuffer | null,
    private readonly deadline = Infinity,
  ) {
    this.flag = buffer ? new Int32Array(buffer) : null;
  }
  check(): boolean {
    if (!this.requested && ((this.flag !== null && Atomics.load(this.flag, 0) !== 0) || now() > this.deadline)) this.requested = true;
    return this.requested;
  }
  /** Without shared memory a stop arrives as a message: the decode loop must let messages in. */
  get needsMessages(): boolean {
    return this.flag === null;
  }
}

interface GenerationTrace {
  ids: number[];
  generateStart: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
  /** Time of every generated token, engine clock. */
  times: number[];
  decodeStats: DecodeStats | null;
}

const now = () => performance.now();

/** How often the KV loop lets an `interrupt` message in when there is no shared-memory flag (ms). */
const MESSAGE_POLL_MS = 25;
/** The warm-up's stand-in for the page's flush interval (one display frame). */
const WARMUP_FLUSH_MS = 16;
/** Longest warm-up answer: long enough to time, short enough to keep the context like a real one. */
const WARMUP_ANSWER_TOKENS = 128;
const discardText = (_text: string, _count: number): void => undefined;

/** Decode tokens/s of a trace (first to last generated token), as the metrics define it. */
function decodeTps(t: GenerationTrace): number | null {
  return decodeRate(t.times.length, t.times[0] ?? null, t.times.at(-1) ?? null);
}

function toNumbers(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export class ModelRuntime {
  private current: Loaded | null = null;
  private active: { id: number; stop: StopSignal } | null = null;
  private loading = false;

  constructor(private readonly post: Post) {}

  async load(id: number, req: LoadRequest): Promise<void> {
    if (this.loading || this.active) fail('busy', 'The engine is busy; stop the current generation or wait for the load to finish.');
    const problem = sourceError(req.source);
    if (problem) fail('invalid-request', problem);
    this.loading = true;
    try {
      await this.disposeCurrent();
      this.current = await this.loadModel(id, req);
      this.post({ kind: 'loaded', id, info: this.current.info });
    } finally {
      this.loading = false;
    }
  }

  private async loadModel(id: number, req: LoadRequest): Promise<Loaded> {
    const t0 = now();
    const loc = locate(req.source, req.appBase);
    const weightsFile = `onnx/model${DTYPE_SUFFIX[req.dtype]}.onnx`;
    const ctx = { modelId: loc.modelId, weightsFile, device: req.device, dtype: req.dtype };
    if (req.device === 'webgpu' && !('gpu' in navigator)) {
      fail('unsupported-device', 'WebGPU is not available in this browser; choose WASM.');
    }

    this.post({ kind: 'phase', id, phase: 'download' });
    const plan = await preflight(loc, req.dtype, req.device);
    this.post({ kind: 'plan', id, files: plan.files, totalBytes: plan.totalBytes });
    const weightsUrl = plan.files.find((f) => f.file === weightsFile)?.url ?? '';
    const cachedBefore = req.useBrowserCache && req.source.type !== 'bundled' ? await inCacheStorage(weightsUrl) : false;

    let t: Transformers;
    let build: LoadedInfo['ortBuild'];
    try {
      ({ t, build } = await setupTransformers(req.device, req.threads, req.ortBase));
    } catch (e) {
      return fail('internal', errorText(e));
    }
    t.env.allowLocalModels = loc.allowLocalModels;
    t.env.allowRemoteModels = loc.allowRemoteModels;
    t.env.localModelPath = loc.localModelPath;
    t.env.remoteHost = loc.remoteHost;
    t.env.remotePathTemplate = loc.remotePathTemplate;
    // Bundled files are same-origin and already in the HTTP cache; don't copy them into Cache Storage.
    t.env.useBrowserCache = req.useBrowserCache && req.source.type !== 'bundled';

    const fileBytes = new Map<string, number>();
    const lastPost = new Map<string, number>();
    let lastFileDone = t0;
    const progress_callback = (p: { status: string; file?: string; loaded?: number; total?: number }) => {
      if (!p.file) return;
      if (p.status === 'progress' && typeof p.loaded === 'number') {
        fileBytes.set(p.file, Math.max(p.total ?? 0, p.loaded));
        const tp = now();
        // At most ~20 progress messages a second per file, and always the last one.
        if (p.loaded === p.total || tp - (lastPost.get(p.file) ?? 0) > 50) {
          lastPost.set(p.file, tp);
          this.post({ kind: 'progress', id, file: p.file, loaded: p.loaded, total: p.total ?? 0 });
        }
      } else if (p.status === 'done') {
        lastFileDone = now();
        this.post({ kind: 'file-done', id, file: p.file });
      }
    };

    let tokenizer: Tokenizer;
    let model: Model;
    try {
      tokenizer = await t.AutoTokenizer.from_pretrained(loc.modelId, { revision: loc.revision, progress_callback });
    } catch (e) {
      return fail('tokenizer-missing', `The tokenizer of ${loc.modelId} could not be loaded.`, { detail: errorText(e) });
    }
    this.post({ kind: 'phase', id, phase: 'session' });
    try {
      model = await t.AutoModelForCausalLM.from_pretrained(loc.modelId, {
        revision: loc.revision,
        dtype: req.dtype,
        device: req.device,
        progress_callback,
      });
    } catch (e) {
      throw new EngineFailure(classifyLoadError(e, ctx));
    }
    const tReady = now();
    const downloadBytes = sum(fileBytes) || plan.totalBytes || 0;
    const config = plan.config;
    const maxContext = firstNumber(config, ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length']);
    const genCfg = (model as unknown as { generation_config?: { eos_token_id?: unknown } }).generation_config;
    const eosTokenIds = toNumbers(genCfg?.eos_token_id ?? config['eos_token_id']);
    const kv = req.device === 'wasm' ? wasmKvDecoder(t, model) : { decoder: null, reason: 'WebGPU runs through transformers.js (its KV cache stays on the GPU)' };
    const loaded: Loaded = {
      t,
      tokenizer,
      model,
      kv: kv.decoder,
      info: {
        modelId: loc.modelId,
        device: req.device,
        dtype: req.dtype,
        threads: t.env.backends.onnx.wasm?.numThreads ?? 1,
        crossOriginIsolated: self.crossOriginIsolated,
        ortBuild: build,
        downloadMs: lastFileDone - t0,
        downloadBytes,
        fromCache: cachedBefore || (req.source.type === 'bundled' && servedFromHttpCache(plan.files.map((f) => f.url))),
        sessionCreateMs: tReady - lastFileDone,
        warmupMs: 0,
        warmupTokens: 0,
        warmupDecodeTps: null,
        maxContext,
        eosTokenIds,
        decodeLoop: kv.decoder ? 'kv-loop' : 'generate',
        decodeLoopReason: kv.reason,
        outputPool: kv.decoder?.pooling ?? false,
      },
    };
    if (req.warmup) {
      this.post({ kind: 'phase', id, phase: 'warmup' });
      const w = await this.warmUp(loaded, req.warmup);
      Object.assign(loaded.info, w);
    }
    return loaded;
  }

  /**
   * Warm-up. V8 first runs fresh WASM code in its baseline tier (Liftoff) and optimises a function
   * (TurboFan) only after it has used up an execution budget; WebGPU compiles its shaders on first
   * use. Measured here: without warm-up the first decode tokens ran 5–8x slower than steady state.
   * So before "ready": a few forward passes over a long prompt (each runs the matmul kernels many
   * times, using up their budgets fastest), then short answers (up to 128 tokens, so the context
   * stays as short as a real one) through exactly the path a real answer takes: the same loop,
   * stop signal (shared memory when the page has it), detokenizer and batching, with the text going
   * nowhere. Measured: when the warm-up ran a different path (no interrupt flag, an extra stopping
   * callback) the first real answer was de-optimised and ran at half speed. Done when three answers
   * in a row decode within 5% of the best, after at least `minTokens`, or at the bounds.
   */
  private async warmUp(m: Loaded, plan: WarmupPlan) {
    const start = now();
    const deadline = start + plan.maxMs;
    const ctx = m.info.maxContext ?? 2048;
    const flag = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined' ? new SharedArrayBuffer(4) : null;
    if (plan.prefillPasses > 0) {
      const filler = 'The quick brown fox jumps over the lazy dog. 0123456789 ';
      const long = this.template(m, [{ role: 'user', content: filler.repeat(64) }]);
      const n = Math.min(long.input_ids.dims[1] ?? 0, Math.floor(ctx / 2), 512);
      const cut: Inputs = { input_ids: long.input_ids.slice(null, [0, n]), attention_mask: long.attention_mask.slice(null, [0, n]) };
      for (let i = 0; i < plan.prefillPasses && now() - start < plan.maxMs / 2; i++) {
        await this.run(m, cut, { max_new_tokens: 1, do_sample: false }, new StopSignal(flag, deadline), null);
      }
    }
    const inputs = this.template(m, [{ role: 'user', content: 'Hello! What is 12 + 7?' }]);
    const promptLen = inputs.input_ids.dims[1] ?? 0;
    const perAnswer = Math.max(1, Math.min(WARMUP_ANSWER_TOKENS, ctx - promptLen - 1));
    let tokens = 0;
    let best = 0;
    let near = 0;
    const speeds: number[] = [];
    while (tokens < plan.maxTokens && now() < deadline) {
      const n = Math.min(perAnswer, plan.maxTokens - tokens);
      const batch = this.stream(m, discardText, WARMUP_FLUSH_MS);
      const trace = await this.run(m, inputs, { max_new_tokens: n, min_new_tokens: n, do_sample: false }, new StopSignal(flag, deadline), (tok) => batch.add(tok));
      batch.flush();
      tokens += trace.ids.length;
      const tps = decodeTps(trace);
      if (tps === null) break;
      speeds.push(tps);
      best = Math.max(best, tps);
      near = tps >= best * 0.95 ? near + 1 : 0;
      if (tokens >= plan.minTokens && near >= 3) break;
    }
    // The steady speed it reached: the median of the last three answers (one 128-token answer of a
    // small model lasts ~60 ms, so a single one is at the mercy of a stray pause).
    return { warmupMs: now() - start, warmupTokens: tokens, warmupDecodeTps: median(speeds.slice(-3)) };
  }

  /** Generated ids → batched text deltas for `sink` (the page's `tokens` messages). */
  private stream(m: Loaded, sink: (text: string, count: number) => void, flushIntervalMs: number): BatchingStream {
    const decoder = new IncrementalDecoder((ids) => m.tokenizer.decode(ids, { skip_special_tokens: true }));
    return new BatchingStream(decoder, sink, flushIntervalMs, now);
  }

  private template(m: Loaded, messages: ChatMessage[]): Inputs {
    if (!m.tokenizer.chat_template) {
      fail('unsupported-model', `${m.info.modelId} has no chat template in tokenizer_config.json, so it cannot hold a conversation.`);
    }
    try {
      const out = m.tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true });
      return out as unknown as Inputs;
    } catch (e) {
      return fail('invalid-request', `The model's chat template rejected this conversation: ${errorText(e)}`);
    }
  }

  private async run(
    m: Loaded,
    inputs: Inputs,
    config: Record<string, number | boolean>,
    stop: StopSignal,
    onToken: ((id: number) => void) | null,
  ): Promise<GenerationTrace> {
    const trace: GenerationTrace = { ids: [], generateStart: now(), firstTokenAt: null, lastTokenAt: null, times: [], decodeStats: null };
    const eos = new Set(m.info.eosTokenIds);
    const put = (id: number) => {
      const at = now();
      trace.ids.push(id);
      trace.times.push(at);
      if (!eos.has(id)) {
        trace.firstTokenAt ??= at;
        trace.lastTokenAt = at;
        onToken?.(id);
      }
    };
    const shouldStop = () => stop.check();
    if (m.kv) {
      trace.decodeStats = await m.kv.generate({
        promptIds: Array.from(inputs.input_ids.data as ArrayLike<bigint | number>, Number),
        maxNewTokens: Number(config['max_new_tokens'] ?? 1),
        sampling: samplingSettings(config),
        eosTokenIds: m.info.eosTokenIds,
        onToken: put,
        shouldStop,
        ...(stop.needsMessages ? { yieldEveryMs: MESSAGE_POLL_MS } : {}),
      });
      return trace;
    }
    class Streamer extends m.t.BaseStreamer {
      private prompt = true;
      override put(value: bigint[][]): void {
        if (this.prompt) {
          this.prompt = false;
          return;
        }
        put(Number(value[0]?.[0] ?? -1));
      }
      override end(): void {}
    }
    class Stop extends m.t.StoppingCriteria {
      override _call(input_ids: number[][]): boolean[] {
        const s = shouldStop();
        return input_ids.map(() => s);
      }
    }
    await m.model.generate({ ...inputs, ...config, streamer: new Streamer(), stopping_criteria: [new Stop()] } as never);
    return trace;
  }

  async generate(id: number, options: GenerateOptions): Promise<void> {
    const m = this.current;
    if (!m) fail('not-loaded', 'No model is loaded. Load one first.');
    if (this.loading || this.active) fail('busy', 'The engine is already generating; stop it first.');
    const problems = validateGenerationParams(options.params);
    if (problems.length) fail('invalid-request', problems.join(' '));
    if (options.messages.length === 0) fail('invalid-request', 'The conversation is empty.');
    const inputs = this.template(m, options.messages);
    const inputTokens = inputs.input_ids.dims[1] ?? 0;
    const ctx = m.info.maxContext;
    if (ctx !== null && inputTokens >= ctx) {
      fail('invalid-request', `The conversation is ${inputTokens} tokens long but ${m.info.modelId} reads at most ${ctx}. Start a new chat or shorten the messages.`);
    }
    const stop = new StopSignal(options.interruptFlag);
    this.active = { id, stop };
    try {
      const batch = this.stream(m, (text, count) => this.post({ kind: 'tokens', id, text, count }), options.flushIntervalMs);
      const trace = await this.run(m, inputs, generationConfig(options.params, ctx === null ? null : ctx - inputTokens), stop, (tok) => batch.add(tok));
      batch.flush();
      const eos = new Set(m.info.eosTokenIds);
      const last = trace.ids.at(-1);
      const outputIds = trace.ids.filter((x, i) => !(i === trace.ids.length - 1 && eos.has(x)));
      const finishReason: GenerationDone['finishReason'] = stop.requested ? 'abort' : last !== undefined && eos.has(last) ? 'stop' : 'length';
      this.post({
        kind: 'done',
        id,
        result: {
          finishReason,
          text: outputIds.length ? m.tokenizer.decode(outputIds, { skip_special_tokens: true }) : '',
          inputTokens,
          outputTokens: outputIds.length,
          outputTokenIds: outputIds,
          generateStart: trace.generateStart,
          firstTokenAt: trace.firstTokenAt,
          lastTokenAt: trace.lastTokenAt,
          decodeStats: trace.decodeStats,
        },
      });
    } catch (e) {
      throw new EngineFailure(classifyGenerateError(e));
    } finally {
      this.active = null;
    }
  }

  /** Stops generation `target` at its next token. Returns whether it was running. */
  interrupt(target: number): boolean {
    if (this.active && this.active.id === target) {
      this.active.stop.requested = true;
      return true;
    }
    return false;
  }

  /** Stops whatever is running; the next generate starts from a clean state. */
  reset(): void {
    if (this.active) this.active.stop.requested = true;
  }

  async unload(): Promise<void> {
    this.reset();
    await this.disposeCurrent();
  }

  private async disposeCurrent(): Promise<void> {
    const m = this.current;
    this.current = null;
    if (m) await m.model.dispose();
  }
}

/**
 * transformers.js generation settings. Keys are only present when set: an explicit `undefined`
 * would override the model's generation_config defaults. top_k 0 means "off" there too.
 */
export function generationConfig(p: GenerationParams, room: number | null): Record<string, number | boolean> {
  const max = room === null ? p.maxNewTokens : Math.max(1, Math.min(p.maxNewTokens, room));
  const out: Record<string, number | boolean> = { max_new_tokens: max, repetition_penalty: p.repetitionPenalty };
  if (p.minNewTokens) out['min_new_tokens'] = Math.min(p.minNewTokens, max);
  if (p.greedy) return { ...out, do_sample: false };
  return { ...out, do_sample: true, temperature: p.temperature, top_p: p.topP, top_k: p.topK };
}

type TensorCtor = new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => OrtTensorLike;

function isTensorCtor(x: unknown): x is TensorCtor {
  return typeof x === 'function';
}

/** The KV decode loop for a WASM model, or why it is not used. */
function wasmKvDecoder(t: Transformers, model: Model): { decoder: KvDecoder | null; reason: string | null } {
  // ONNX Runtime's own Tensor class, taken from a tensor transformers.js made: wrapping every step's
  // inputs in transformers.js Tensors (a Proxy each) only adds garbage, and garbage collection is
  // what the decode loop's slowest steps were spent on here (docs/performance.md).
  const OrtTensor: unknown = new t.Tensor('float32', new Float32Array(0), [0]).ort_tensor.constructor;
  if (!isTensorCtor(OrtTensor)) return { decoder: null, reason: "ONNX Runtime's Tensor class is not reachable" };
  return kvDecoderFor(model, (type, data, dims) => new OrtTensor(type, data, dims), outputHookAvailable());
}

function sum(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

function firstNumber(obj: Record<string, unknown>, keys: string[]): number | null {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'number' && v > 0) return v;
  }
  return null;
}

async function inCacheStorage(url: string): Promise<boolean> {
  if (!url || typeof caches === 'undefined') return false;
  try {
    const cache = await caches.open('transformers-cache');
    return (await cache.match(url)) !== undefined;
  } catch {
    return false;
  }
}

/** Same-origin files report transferSize 0 when the HTTP cache served them. */
function servedFromHttpCache(urls: string[]): boolean {
  const entries = urls.flatMap((u) => performance.getEntriesByName(u, 'resource')).filter((e): e is PerformanceResourceTiming => 'transferSize' in e);
  const gets = entries.filter((e) => e.decodedBodySize > 0);
  return gets.length > 0 && gets.every((e) => e.transferSize === 0);
}
