/**
 * The worker's load sequence (split from runtime.ts, which keeps the protocol glue): preflight →
 * memory check → download through the model store → tokenizer and session → warm-up. Returns the
 * loaded model; every failure is an EngineFailure with a specific kind. Just over 300 lines, one idea: the
 * sequence in order; each step's work lives in its own file.
 */
import { TokenGenerator } from '../../../inference/core';
import type { GrammarCache } from '../../../inference/grammar';
import { kvReuseBlocker } from '../../../inference/kv-cache';
import { outputHookAvailable } from '../../../inference/output-pool';
import type { LastConversation } from '../../../inference/prefill-reason';
import type { BatchingStream } from '../../../inference/streamer';
import { errorText } from '../../../lib/errors';
import { rewriteLimits, type Dtype } from '../../../models/dtypes';
import { deviceMemoryGiB } from '../../../models/environment';
import { locate, weightsFile } from '../../../models/sources';
import type { ChatMessage } from '../../types';
import type { FromWorker, LoadRequest, LoadedInfo, PlannedFile } from '../protocol';
import { classifyLoadError, EngineFailure, fail } from './errors';
import { checkMemory } from './memory-check';
import { watchDeviceLoss } from './device-loss';
import { wasmHeapBytes } from './wasm-memory';
import { runtimeWasPrepared, setupTransformers, type Transformers } from './ort-setup';
import { DownloadError, ModelStore } from './model-store';
import { preflight } from './preflight';
import { installExternalWeights, onCreateStart, rewriteNextWith, shareNextRewrite, stepFirstNext, takeSessionRecord, takeStepRead } from './external-weights';
import { int8StepBlocker, int8StepNotRun, spawnWorkerHelper } from './int8-step';
import { startRewriteHelpers } from './rewrite-helpers';
import { warmUp } from './warmup';
import { planAfterPrimer, planForInt8Step } from './warmup-rule';
import { startPrimer } from './primer-helper';

type Post = (msg: FromWorker) => void;
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['AutoModelForCausalLM']['from_pretrained']>>;

export interface Loaded {
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

/** What the warm-up borrows from the runtime: the chat template and the token stream. */
export interface LoadGlue {
  template(m: Loaded, messages: ChatMessage[]): number[];
  stream(m: Loaded, sink: (text: string, count: number) => void, flushIntervalMs: number): BatchingStream;
}

const now = () => performance.now();

/**
 * The worker keeps one conversation's KV state (the last one): a new chat or an edited turn cuts it
 * to the common prefix. 256 MiB holds ~2,700 tokens of a 135M-shape model's fp32 cache (30 layers ×
 * 2 × 3 heads × 64 × 4 bytes = 92 KiB a token); a longer state is not kept.
 */
const KV_CACHE_LIMITS = { maxBytes: 256 * 1024 * 1024, maxEntries: 1 };

function kvCacheOptions(dtype: Dtype, computedInInt8: boolean): { cache?: typeof KV_CACHE_LIMITS; cacheOffReason: string | null; stepCache: typeof KV_CACHE_LIMITS } {
  const blocker = kvReuseBlocker(dtype, computedInInt8);
  // On the int8 step reuse is exact whatever the dtype (its prompts run row by row): stepCache.
  return { ...(blocker ? {} : { cache: KV_CACHE_LIMITS }), cacheOffReason: blocker, stepCache: KV_CACHE_LIMITS };
}

function toNumbers(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export async function loadModel(id: number, req: LoadRequest, post: Post, glue: LoadGlue): Promise<Loaded> {
  const t0 = now();
  const loc = locate(req.source, req.appBase);
  const ctx = { modelId: loc.modelId, weightsFile: weightsFile(req.dtype), device: req.device, dtype: req.dtype };
  if (req.device === 'webgpu' && !('gpu' in navigator)) {
    fail('unsupported-device', 'WebGPU is not available in this browser; choose WASM.');
  }

  post({ kind: 'phase', id, phase: 'download' });
  const fileBytes = new Map<string, number>();
  const lastPost = new Map<string, number>();
  let lastFileDone = t0;
  const done = new Set<string>();
  let sessionPhase = false;
  const sessionBegins = () => {
    if (sessionPhase) return;
    sessionPhase = true;
    post({ kind: 'phase', id, phase: 'session' });
  };
  // The read ends where ONNX Runtime's create begins, at the latest. Measured reason (2026-12-03, 0.5B
  // q4 warm loads from the store): generation_config.json's read, queued behind the model's synchronous
  // read, the rewrite and the create on this worker's thread, ended 2.6–8.0 s after the model's bytes,
  // and the Load said "reading" (the bench's read phase 6.1–11.9 s against its 3.5–4.1 s) meanwhile.
  let createStart: number | null = null;
  let planned: PlannedFile[] = [];
  // The store reports every planned file's progress and end (transformers.js gets no progress
  // callback: with one, it reads each file through a stream and copies it; model-store.ts).
  const store = new ModelStore(loc.modelId, req.useBrowserCache, {
    progress(file, loaded, total) {
      fileBytes.set(file, Math.max(total, loaded));
      const tp = now();
      // At most ~20 progress messages a second per file, and always the last one.
      if (loaded === total || tp - (lastPost.get(file) ?? 0) > 50) {
        lastPost.set(file, tp);
        post({ kind: 'progress', id, file, loaded, total });
      }
    },
    done(file) {
      lastFileDone = now();
      if (done.has(file)) return;
      post({ kind: 'file-done', id, file });
      done.add(file);
      // Every planned file read: what is left is the session (the tokenizer and the model load together, below).
      if (planned.length && planned.every((f) => done.has(f.file))) sessionBegins();
    },
  });
  await store.open();
  const plan = await preflight(loc, req.dtype, req.device, store.offline);
  planned = plan.files;
  post({ kind: 'plan', id, files: plan.files, totalBytes: plan.totalBytes });
  // Before any byte of weights: refuse what cannot fit (src/models/memory.ts).
  // The int8 step may decode this load (WASM, not turned off): q4's weights then become int8 (dtypes.ts rewriteLimits).
  const mayStep = req.device === 'wasm' && req.int8Step !== false;
  const memory = await checkMemory({ modelId: loc.modelId, files: plan.files, config: plan.config, dtype: req.dtype, device: req.device, allowTight: req.allowTightMemory ?? false, int8Step: mayStep });
  await store.init(plan.files, plan.totalBytes);

  let t: Transformers;
  let build: LoadedInfo['ortBuild'];
  try {
    ({ t, build } = await setupTransformers(req.device, req.threads, req.ortBase));
    if (req.device === 'wasm') await installExternalWeights();
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

  // Drops what an earlier load that failed left (its rewrite, its parts): this load reports its own.
  takeSessionRecord();
  onCreateStart(() => {
    createStart ??= now();
    sessionBegins();
  });
  // V8 optimises ONNX Runtime's kernels while the weights are read (primer.ts), warm-up or not: beside
  // a download in a worker of its own, beside a read from the store in this worker (primer-helper.ts).
  // A model of unknown size (no Content-Length) is primed, as a download: a hub model is rarely small.
  const networkBytes = plan.totalBytes === null ? Infinity : plan.totalBytes - store.storedBytes;
  const primer = req.device === 'wasm' ? await startPrimer(req.dtype, memory.estimate?.rewrite?.to ?? null, plan.totalBytes ?? Infinity, networkBytes, req.appBase, req.ortBase) : null;
  // A q4 rewrite ahead (WASM): its helpers start now, so they are up when the bytes are read.
  if (req.device === 'wasm' && memory.estimate?.rewrite) shareNextRewrite(startRewriteHelpers());
  // The tokenizer and the model load together: the tokenizer's files and parse (~190 ms for the
  // 0.5B shape's 4.3 MB tokenizer.json) no longer wait in front of the weights' read.
  const int8Blocker = int8StepBlocker(req, memory.estimate?.rewrite?.to ?? null) ?? memory.int8Step;
  // Where the step may run this load, it reads the model's bytes in ONNX Runtime's place and, where it can, no
  // ONNX Runtime session is made (step-only-session.ts): the step runs prompts and tokens. Else, as always.
  stepFirstNext(int8Blocker === null ? plan.config : null);
  rewriteNextWith(rewriteLimits(deviceMemoryGiB(), mayStep));
  const tokenizerLoad = t.AutoTokenizer.from_pretrained(loc.modelId, { revision: loc.revision });
  const modelLoad = t.AutoModelForCausalLM.from_pretrained(loc.modelId, {
    revision: loc.revision,
    dtype: req.dtype,
    device: req.device,
  });
  // Its failure is reported below, after the tokenizer's: not an unhandled rejection meanwhile.
  modelLoad.catch(() => undefined);
  // A load that fails before its session is created stops the primer and the rewrite's helpers too.
  const primed = primer ? modelLoad.then(() => primer.stop(), () => primer.stop()) : Promise.resolve(null);
  void modelLoad.then(() => shareNextRewrite(null), () => shareNextRewrite(null));
  void modelLoad.finally(() => onCreateStart(null)).catch(() => undefined);
  let tokenizer: Tokenizer;
  let model: Model;
  try {
    tokenizer = await tokenizerLoad;
  } catch (e) {
    // The model may still become a session: free it (and its heap) when it does.
    void modelLoad.then((m) => m.dispose()).catch(() => undefined);
    if (store.failure) downloadFailed(store.failure, e);
    return fail('tokenizer-missing', `The tokenizer of ${loc.modelId} could not be loaded.`, { detail: errorText(e) });
  }
  try {
    model = await modelLoad;
  } catch (e) {
    if (store.failure) downloadFailed(store.failure, e);
    throw new EngineFailure(classifyLoadError(e, ctx));
  }
  sessionBegins();
  const tReady = now();
  const readEnd = Math.min(lastFileDone, createStart ?? Infinity);
  const session = takeSessionRecord();
  const cache = await store.report();
  if (req.device === 'webgpu') watchDeviceLoss(t, (error) => post({ kind: 'crashed', id: 0, error }));
  const downloadBytes = sum(fileBytes) || plan.totalBytes || 0;
  const config = plan.config;
  const maxContext = firstNumber(config, ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length']);
  const eosTokenIds = toNumbers(model.generation_config?.eos_token_id ?? config['eos_token_id']);
  // The int8 step's weights (read in ONNX Runtime's place), laid out for its kernels (a copy: the file's bytes are dropped after).
  const tInt8 = now();
  const read = takeStepRead();
  const stepOnly = read !== null && 'weights' in read;
  const int8 = stepOnly ? read.weights : int8StepNotRun(int8Blocker, read?.reason ?? null);
  const threads = t.env.backends.onnx.wasm?.numThreads ?? 1;
  // The load's thread count applies to the step too: at 2 or more, a helper worker takes half of its work.
  const int8Helper = threads >= 2 ? spawnWorkerHelper : null;
  const generator = new TokenGenerator(t, model, { device: req.device, eosTokenIds, pooled: outputHookAvailable(), ...kvCacheOptions(req.dtype, session.weightRewrite?.to === 'int8'), int8, int8Helper, int8Relaxed: req.int8Relaxed ?? true });
  if (stepOnly && generator.engine !== 'int8-step') {
    await model.dispose().catch(() => undefined);
    return fail('unsupported-model', `The int8 step could not start for ${loc.modelId} (${generator.engineReason ?? 'no reason given'}), and it was to run the whole model: load it in another dtype.`);
  }
  const step = await generator.int8Step();
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
      threads,
      crossOriginIsolated: self.crossOriginIsolated,
      ortBuild: build,
      runtimePrepared: runtimeWasPrepared(),
      downloadMs: readEnd - t0,
      downloadBytes,
      fromCache: cache.source === 'cache',
      cache,
      sessionCreateMs: tReady - readEnd,
      warmupMs: 0,
      warmupTokens: 0,
      warmupDecodeTps: null,
      warmupPlan: null,
      maxContext,
      eosTokenIds,
      decodeLoop: generator.loop,
      decodeLoopReason: generator.reason,
      decodeEngine: generator.engine,
      decodeEngineReason: generator.engineReason,
      int8Step: step && { loadMs: now() - tInt8 + (stepOnly ? read.ms : 0), memoryBytes: step.memoryBytes, onnxRuntimeSession: !stepOnly, threads: step.threads, threadNote: step.note, kernel: step.kernel, kernelNote: step.kernelNote },
      outputPool: generator.pooling,
      weightRewrite: session.weightRewrite,
      sessionParts: session.sessionParts,
      primer: await primed,
      memoryEstimate: memory.estimate,
      memoryFit: memory.verdict,
      weightsBytes: memory.estimate?.weightsBytes ?? null,
      wasmHeapBytes: null,
      sessionMemory: session.sessionMemory,
    },
    last: null,
  };
  if (req.warmup) {
    post({ kind: 'phase', id, phase: 'warmup' });
    const sharedMemory = self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined';
    const target = {
      generator,
      maxContext,
      template: (messages: ChatMessage[]) => glue.template(loaded, messages),
      stream: (sink: (text: string, count: number) => void, ms: number) => glue.stream(loaded, sink, ms),
    };
    // After a primer that settled, V8's optimising is done: a shorter decode floor (warmup-rule.ts).
    // Decoding on the int8 step: one short answer (warmup-rule.ts, planForInt8Step).
    const plan = planAfterPrimer(req.warmup, loaded.info.primer);
    Object.assign(loaded.info, await warmUp(target, generator.engine === 'int8-step' ? planForInt8Step(plan) : plan, sharedMemory));
    // The warm-up's conversations are not the user's: the first answer starts cold.
    generator.clearCache();
  }
  loaded.info.wasmHeapBytes = wasmHeapBytes();
  return loaded;
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
