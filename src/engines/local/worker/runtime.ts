// About 360 lines: loading (memory check, store, q4 rewrite) and the protocol glue of the worker; warm-up is warmup.ts, decoding is src/inference.
/**
 * The model runtime inside the worker: load (preflight → download → session → warm-up), then
 * protocol glue: each `generate` message is templated, checked and handed to the generation core
 * (src/inference/core.ts), its tokens batched to the page; interrupt, unload. It owns at most one
 * model at a time and refuses overlapping work with a typed `busy` error instead of queueing it.
 */
import { answerRoom, contextNotice, fitContext } from '../../../inference/context';
import { TokenGenerator } from '../../../inference/core';
import { GrammarCache, vocabFromTokenizerJson } from '../../../inference/grammar';
import { kvReuseBlocker } from '../../../inference/kv-cache';
import { outputHookAvailable } from '../../../inference/output-pool';
import { validateGenerationParams } from '../../../inference/params';
import { prefillNote, type LastConversation } from '../../../inference/prefill-reason';
import { promptIds } from '../../../inference/prompt';
import { isConstrained } from '../../../inference/response-format';
import { decodeSettings } from '../../../inference/settings';
import { BatchingStream, IncrementalDecoder } from '../../../inference/streamer';
import { loadXGrammar } from '../../../inference/xgrammar';
import { errorText } from '../../../lib/errors';
import type { Dtype } from '../../../models/dtypes';
import { DTYPE_SUFFIX, locate, sourceError } from '../../../models/sources';
import type { ChatMessage } from '../../types';
import type { FromWorker, GenerateOptions, LoadRequest, LoadedInfo } from '../protocol';
import { classifyGenerateError, classifyLoadError, EngineFailure, fail } from './errors';
import { checkMemory } from './memory-check';
import { watchDeviceLoss } from './device-loss';
import { wasmHeapBytes } from './wasm-memory';
import { testHookOnToken } from './test-hooks';

/** True only in the e2e build (vite.config.ts `define`). */
declare const __SLM_TEST_HOOKS__: boolean;
import { setupTransformers, type Transformers } from './ort-setup';
import { DownloadError, ModelStore } from './model-store';
import { preflight } from './preflight';
import { installQ4Rewrite, takeRewrite, takeSessionParts } from './q4-session';
import { StopSignal, tracedRun } from './traced-run';
import { warmUp } from './warmup';

type Post = (msg: FromWorker) => void;
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['AutoModelForCausalLM']['from_pretrained']>>;

interface Loaded {
  tokenizer: Tokenizer;
  model: Model;
  generator: TokenGenerator;
  info: LoadedInfo;
  /** The conversation the kept KV state came from, to say why a prompt reused less of it. */
  last: LastConversation | null;
  /** The model's logits size (config.json vocab_size), for the grammar's token tables. */
  vocabSize: number | null;
  /** Compiled grammars of this tokenizer; made on the first JSON answer (a text answer never loads XGrammar). */
  grammars: GrammarCache | null;
}

const now = () => performance.now();

/**
 * The worker keeps one conversation's KV state (the last one): a new chat or an edited turn cuts it
 * to the common prefix. 256 MiB holds ~2,700 tokens of a 135M-shape model's fp32 cache (30 layers ×
 * 2 × 3 heads × 64 × 4 bytes = 92 KiB a token); a longer state is not kept.
 */
const KV_CACHE_LIMITS = { maxBytes: 256 * 1024 * 1024, maxEntries: 1 };

function kvCacheOptions(dtype: Dtype): { cache?: typeof KV_CACHE_LIMITS; cacheOffReason: string | null } {
  const blocker = kvReuseBlocker(dtype);
  return blocker ? { cacheOffReason: blocker } : { cache: KV_CACHE_LIMITS, cacheOffReason: null };
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
    const store = new ModelStore(loc.modelId, req.useBrowserCache);
    await store.open();
    const plan = await preflight(loc, req.dtype, req.device, store.offline);
    this.post({ kind: 'plan', id, files: plan.files, totalBytes: plan.totalBytes });
    // Before any byte of weights: refuse what cannot fit (src/models/memory.ts).
    const memory = await checkMemory({ modelId: loc.modelId, files: plan.files, config: plan.config, dtype: req.dtype, device: req.device, allowTight: req.allowTightMemory ?? false });
    await store.init(plan.files, plan.totalBytes);

    let t: Transformers;
    let build: LoadedInfo['ortBuild'];
    try {
      ({ t, build } = await setupTransformers(req.device, req.threads, req.ortBase));
      if (req.device === 'wasm') await installQ4Rewrite();
    } catch (e) {
      return fail('internal', errorText(e));
    }
    t.env.allowLocalModels = loc.allowLocalModels;
    t.env.allowRemoteModels = loc.allowRemoteModels;
    t.env.localModelPath = loc.localModelPath;
    t.env.remoteHost = loc.remoteHost;
    t.env.remotePathTemplate = loc.remotePathTemplate;
    // Every model file (embedded ones too: the service worker leaves them to the network) is
    // verified, stored and resumed by the store (model-store.ts), never by transformers.js's own cache.
    t.env.useBrowserCache = false;
    t.env.useCustomCache = req.useBrowserCache;
    t.env.customCache = t.env.useCustomCache ? store : null;
    t.env.fetch = store.fetch;

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
      if (store.failure) downloadFailed(store.failure, e);
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
      if (store.failure) downloadFailed(store.failure, e);
      throw new EngineFailure(classifyLoadError(e, ctx));
    }
    const tReady = now();
    const cache = await store.report();
    if (req.device === 'webgpu') watchDeviceLoss(t, (error) => this.post({ kind: 'crashed', id: 0, error }));
    const downloadBytes = sum(fileBytes) || plan.totalBytes || 0;
    const config = plan.config;
    const maxContext = firstNumber(config, ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length']);
    const eosTokenIds = toNumbers(model.generation_config?.eos_token_id ?? config['eos_token_id']);
    const generator = new TokenGenerator(t, model, { device: req.device, eosTokenIds, pooled: outputHookAvailable(), ...kvCacheOptions(req.dtype) });
    const loaded: Loaded = {
      tokenizer,
      model,
      generator,
      vocabSize: firstNumber(config, ['vocab_size']),
      grammars: null,
      info: {
        modelId: loc.modelId,
        device: req.device,
        dtype: req.dtype,
        threads: t.env.backends.onnx.wasm?.numThreads ?? 1,
        crossOriginIsolated: self.crossOriginIsolated,
        ortBuild: build,
        downloadMs: lastFileDone - t0,
        downloadBytes,
        fromCache: cache.source === 'cache',
        cache,
        sessionCreateMs: tReady - lastFileDone,
        warmupMs: 0,
        warmupTokens: 0,
        warmupDecodeTps: null,
        maxContext,
        eosTokenIds,
        decodeLoop: generator.loop,
        decodeLoopReason: generator.reason,
        outputPool: generator.pooling,
        weightRewrite: takeRewrite(),
        sessionParts: takeSessionParts(),
        memoryEstimate: memory.estimate,
        memoryFit: memory.verdict,
        weightsBytes: memory.estimate?.weightsBytes ?? null,
        wasmHeapBytes: null,
      },
      last: null,
    };
    if (req.warmup) {
      this.post({ kind: 'phase', id, phase: 'warmup' });
      const sharedMemory = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
      const target = {
        generator,
        maxContext,
        template: (messages: ChatMessage[]) => this.template(loaded, messages),
        stream: (sink: (text: string, count: number) => void, ms: number) => this.stream(loaded, sink, ms),
      };
      Object.assign(loaded.info, await warmUp(target, req.warmup, sharedMemory));
      // The warm-up's conversations are not the user's: the first answer starts cold.
      generator.clearCache();
    }
    loaded.info.wasmHeapBytes = wasmHeapBytes();
    return loaded;
  }

  /** Generated ids → batched text deltas for `sink` (the page's `tokens` messages). */
  private stream(m: Loaded, sink: (text: string, count: number) => void, flushIntervalMs: number): BatchingStream {
    const decoder = new IncrementalDecoder((ids) => m.tokenizer.decode(ids, { skip_special_tokens: true }));
    return new BatchingStream(decoder, sink, flushIntervalMs, now);
  }

  private template(m: Loaded, messages: ChatMessage[]): number[] {
    if (!m.tokenizer.chat_template) {
      fail('unsupported-model', `${m.info.modelId} has no chat template in tokenizer_config.json, so it cannot hold a conversation.`);
    }
    try {
      return promptIds(m.tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true }));
    } catch (e) {
      return fail('invalid-request', `The model's chat template rejected this conversation: ${errorText(e)}`);
    }
  }

  async generate(id: number, options: GenerateOptions): Promise<void> {
    const m = this.current;
    if (!m) fail('not-loaded', 'No model is loaded. Load one first.');
    if (this.loading || this.active) fail('busy', 'The engine is already generating; stop it first.');
    const problems = validateGenerationParams(options.params);
    if (problems.length) fail('invalid-request', problems.join(' '));
    if (options.messages.length === 0) fail('invalid-request', 'The conversation is empty.');
    const ctx = m.info.maxContext;
    // The context policy (src/inference/context.ts): the oldest turns are left out, with a notice.
    const fit = ctx === null ? null : fitContext(options.messages, (msgs) => this.template(m, msgs), ctx, answerRoom(ctx, options.params.maxNewTokens));
    if (fit && !fit.ok) fail('context-too-long', fit.message);
    const prompt = fit ? fit.ids : this.template(m, options.messages);
    const dropped = fit ? fit.dropped : 0;
    const inputTokens = prompt.length;
    const stop = new StopSignal(options.interruptFlag);
    this.active = { id, stop };
    const format = options.params.responseFormat;
    let constraint: Awaited<ReturnType<GrammarCache['constraint']>> = null;
    try {
      if (isConstrained(format)) constraint = await this.grammarsOf(m).constraint(format);
      const batch = this.stream(m, (text, count) => this.post({ kind: 'tokens', id, text, count }), options.flushIntervalMs);
      const settings = decodeSettings(options.params, ctx === null ? null : ctx - inputTokens);
      let tokens = 0;
      const onToken = (tok: number) => {
        if (__SLM_TEST_HOOKS__) testHookOnToken(++tokens);
        batch.add(tok);
      };
      const trace = await tracedRun(m.generator, prompt, settings, stop, onToken, options.kvReuse ?? true, constraint);
      batch.flush();
      const text = trace.ids.length ? m.tokenizer.decode(trace.ids, { skip_special_tokens: true }) : '';
      const note = prefillNote(trace.prefill, m.last, options.messages);
      if (options.kvReuse ?? true) m.last = { messages: options.messages, answer: text, stopped: trace.finishReason === 'abort' };
      this.post({
        kind: 'done',
        id,
        result: {
          finishReason: trace.finishReason,
          text,
          inputTokens,
          outputTokens: trace.ids.length,
          outputTokenIds: trace.ids,
          generateStart: trace.generateStart,
          firstTokenAt: trace.firstTokenAt,
          lastTokenAt: trace.lastTokenAt,
          decodeStats: trace.decodeStats,
          reusedInputTokens: trace.prefill.reused,
          prefillNote: note,
          jsonComplete: trace.grammarComplete,
          wasmHeapBytes: wasmHeapBytes(),
          droppedMessages: dropped,
          contextNote: ctx === null ? null : contextNotice(dropped, ctx),
        },
      });
    } catch (e) {
      throw new EngineFailure(classifyGenerateError(e));
    } finally {
      constraint?.dispose();
      this.active = null;
    }
  }

  /** The loaded tokenizer's grammar cache (compiled once per schema, here in the worker). */
  private grammarsOf(m: Loaded): GrammarCache {
    m.grammars ??= new GrammarCache(vocabFromTokenizerJson(m.tokenizer._tokenizerJSON, { vocabSize: m.vocabSize, stopTokenIds: m.info.eosTokenIds }), { load: loadXGrammar });
    return m.grammars;
  }

  /** Stops generation `target` at its next token. Returns whether it was running. */
  interrupt(target: number): boolean {
    if (this.active && this.active.id === target) {
      this.active.stop.requested = true;
      return true;
    }
    return false;
  }

  async unload(): Promise<void> {
    if (this.active) this.active.stop.requested = true;
    await this.disposeCurrent();
  }

  private async disposeCurrent(): Promise<void> {
    const m = this.current;
    this.current = null;
    if (!m) return;
    m.generator.clearCache();
    m.grammars?.dispose();
    await m.model.dispose();
  }
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

function downloadFailed(failure: DownloadError, e: unknown): never {
  return fail('network', failure.message, { detail: errorText(e) });
}
