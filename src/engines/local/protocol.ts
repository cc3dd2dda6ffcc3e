// About 340 lines: both directions' messages and the records they carry, in one place with each field's meaning; split, a union's variants would live apart from the switch that narrows them.
/**
 * The typed message protocol between the page and the model worker.
 * One discriminated union per direction, every message carries `kind` and a request `id`,
 * so a `switch (msg.kind)` narrows without casts on both sides.
 */
import type { ChatMessage, DecodeStats, FinishReason, GenerationParams } from '../types';

export type { DecodeStats } from '../types';
import type { Dtype, ModelSource } from '../../models/sources';
import type { DeviceKind, WorkerEnvironment } from '../../models/environment';
import type { FitVerdict, MemoryEstimate } from '../../models/memory';
import type { Int8KernelBuild } from '../../inference/int8-kernel';

export type { DeviceKind, WebGpuInfo, WorkerEnvironment } from '../../models/environment';

export type RequestId = number;

export interface LoadRequest {
  source: ModelSource;
  dtype: Dtype;
  device: DeviceKind;
  /** ONNX Runtime WASM threads (1 when the page is not cross-origin isolated). */
  threads: number;
  /** Absolute base URL of the app (models/ and ort/ are resolved against it). */
  appBase: string;
  /** Absolute URL of the folder holding ONNX Runtime's .wasm/.mjs files, served by the app. */
  ortBase: string;
  /** Warm-up before "ready" (see ModelRuntime.warmUp); null skips it. */
  warmup: WarmupPlan | null;
  /** Whether transformers.js may keep downloaded files in the browser's Cache Storage. */
  useBrowserCache: boolean;
  /** The user accepted the memory warning ("close" to a limit): load anyway. "Too big" is refused regardless. */
  allowTightMemory?: boolean;
  /**
   * Run a q8 Llama or Qwen2 model (or a q4 one, its weights then made int8 at load) on the app's own int8 step
   * (src/inference/int8-session.ts) where it recognises the model (WASM only; default true). false: every run on
   * ONNX Runtime Web, and q4 keeps exact fp32 matmuls where the device's memory allows (src/models/dtypes.ts).
   */
  int8Step?: boolean;
  /**
   * The int8 step's kernel with relaxed SIMD's int8 dot where this engine computes it exactly
   * (src/inference/int8-kernel.ts; default true). false: the plain-SIMD kernel (paired measurements, tests).
   */
  int8Relaxed?: boolean;
}

export interface WarmupPlan {
  /** Forward passes over a long prompt first: they run the matmul kernels many times each. */
  prefillPasses: number;
  /** Then decode until the speed plateaus, within these bounds (and at least `minTokens` or `minDecodeMs` of decoding). */
  maxTokens: number;
  maxMs: number;
  minTokens: number;
  minDecodeMs: number;
}

export interface GenerateOptions {
  messages: ChatMessage[];
  params: GenerationParams;
  /**
   * Shared memory the page writes 1 into to stop generation at the next token (only when the page
   * is cross-origin isolated). The `interrupt` message is the fallback.
   */
  interruptFlag: SharedArrayBuffer | null;
  /** Batch streamed text so the page gets at most one message per interval (ms). 0 = per token. */
  flushIntervalMs: number;
  /** Start from the KV state kept from the last conversation where it shares a prefix (default true; the benchmark turns it off). */
  kvReuse?: boolean;
}

export type ToWorker =
  | { kind: 'probe'; id: RequestId }
  /** Ready ONNX Runtime for a load on `device` ahead of it (answered with `ack`). */
  | { kind: 'prepare'; id: RequestId; device: DeviceKind; ortBase: string }
  | { kind: 'load'; id: RequestId; request: LoadRequest }
  | { kind: 'generate'; id: RequestId; options: GenerateOptions }
  | { kind: 'interrupt'; id: RequestId; target: RequestId }
  | { kind: 'unload'; id: RequestId };

export interface PlannedFile {
  file: string;
  url: string;
  /** Size in bytes from the host's Content-Length, when it tells. */
  bytes: number | null;
  /** The host's ETag for it (HEAD), when it sends one: a cached copy with another is stale. */
  etag?: string | null;
}

export interface LoadedInfo {
  modelId: string;
  device: DeviceKind;
  dtype: Dtype;
  threads: number;
  crossOriginIsolated: boolean;
  /** Which ONNX Runtime build runs the session ('plain' WASM or the 'asyncify' build for WebGPU). */
  ortBuild: 'plain' | 'asyncify';
  /**
   * ONNX Runtime's setup (transformers.js's import, the .wasm's compile) was done before the Load
   * (the page prepared this worker ahead of it: LocalEngine.prepare), so the load did not wait for it.
   */
  runtimePrepared: boolean;
  /** Engine-clock durations, ms. */
  downloadMs: number;
  downloadBytes: number;
  /** Every model file was read from the browser's cache (Cache Storage, the service worker's or the HTTP cache), none downloaded. */
  fromCache: boolean;
  /** Where the files came from and whether they are cached now, with the reason when not. */
  cache: CacheReport;
  sessionCreateMs: number;
  warmupMs: number;
  warmupTokens: number;
  /** Decode speed the warm-up reached (tokens/s, median of its last three answers), null when skipped. */
  warmupDecodeTps: number | null;
  /**
   * The plan the warm-up ran: the request's, or after a settled kernel primer a shorter decode floor and
   * no prefill passes (warmup-rule.ts, planAfterPrimer); null when skipped. The bench's native warm load
   * runs this same plan.
   */
  warmupPlan: WarmupPlan | null;
  maxContext: number | null;
  eosTokenIds: number[];
  /**
   * How tokens are generated: 'kv-loop', the worker's own decode loop on the ONNX Runtime session
   * (WASM, standard KV-cache layouts; see src/inference/kv-decoder.ts), or transformers.js's 'generate'.
   */
  decodeLoop: 'kv-loop' | 'generate';
  /** Why the KV loop is not used, when it is not. */
  decodeLoopReason: string | null;
  /**
   * What runs the KV loop: ONNX Runtime Web, or the int8 step of our own (q8, and q4 made int8, Llama/Qwen2 models
   * on WASM: src/inference/int8-session.ts, prompts and tokens). With why not, and what reading the weights into
   * the step cost (ms, and its WebAssembly memory: weights, scratch, KV state); `onnxRuntimeSession` false: the
   * step read the model in ONNX Runtime's place, which made no session (step-only-session.ts). `threads`: 2 where
   * a helper thread takes half of its work (int8-threads.ts; the load's thread count ≥ 2), with `threadNote` saying
   * why 1 where 2 were asked for.
   */
  decodeEngine: 'onnxruntime' | 'int8-step';
  decodeEngineReason: string | null;
  int8Step: { loadMs: number; memoryBytes: number; onnxRuntimeSession: boolean; threads: number; threadNote: string | null; kernel: Int8KernelBuild; kernelNote: string | null } | null;
  /** Whether ONNX Runtime writes the loop's outputs into reused buffers (src/inference/output-pool.ts). */
  outputPool: boolean;
  /** q4 weights turned into fp32 at load (WASM only; src/inference/q4-rewrite.ts), null when the model had none. */
  weightRewrite: WeightRewrite | null;
  /** Where the WASM session creation went (worker/external-weights.ts), summed over the load's sessions; null on WebGPU. */
  sessionParts: SessionParts | null;
  /** The kernel primer that ran during the read (WASM, large models; worker/primer.ts); null when none ran. */
  primer: PrimerReport | null;
  /** What the preflight estimated from the files' sizes (src/models/memory.ts), and its verdict; null when sizes were unknown. */
  memoryEstimate: MemoryEstimate | null;
  memoryFit: FitVerdict | null;
  /** Bytes of the dtype's ONNX files (graph + external data). */
  weightsBytes: number | null;
  /** The worker's WASM memory after load (a high-water mark: WASM memory never shrinks); null when not measured. */
  wasmHeapBytes: number | null;
  /** How the weights reached ONNX Runtime (WASM: as external data of the file itself, worker/external-weights.ts); null when not measured. */
  sessionMemory: SessionMemory | null;
}

/** The model session's creation, as memory sees it (WASM). */
export interface SessionMemory {
  /** Initializers handed over as external data (of the file's own buffer; with a q4 rewrite, of its fp32 weights too; 0: the file went in whole), and their bytes. */
  externalTensors: number;
  externalBytes: number;
  /** Model bytes JavaScript held while the session was created (the file, the small graph handed to ONNX Runtime, a q4 rewrite's fp32 weights). */
  heldBytes: number;
  /** The WASM heap right after the session was created (its peak so far: WASM memory never shrinks). */
  heapAfterCreateBytes: number | null;
  /**
   * When the WASM heap grew while the load's sessions were created (wall-clock ms,
   * `performance.timeOrigin + now()`): page-side memory samples taken across a growth count the
   * shared heap more than once (worker/wasm-memory.ts), and the benchmark leaves them out.
   */
  heapGrowthsAt: number[];
}

export interface PrimerReport {
  /** Where it ran: a worker of its own (beside a download) or the model worker (beside a read from the store). */
  worker: 'own' | 'model';
  /** From its start to its stop, ms (it runs while the model file is read). */
  ms: number;
  /** Of which running the small model (after its fetch and session), ms. */
  runMs: number;
  runs: number;
  tokens: number;
  /** Whether it stopped because its speed had settled (not at the model's session or its time cap). */
  settled?: boolean;
  /** Why it did not run, or null. */
  skipped: string | null;
}

export interface SessionParts {
  /** Preparing the bytes for ONNX Runtime (q4 rewrite, external data), ms. */
  prepareMs: number;
  /** ONNX Runtime's InferenceSession.create, ms. */
  createMs: number;
  /** Buffers mounted as external data files (the model's own bytes; with a q4 rewrite, its fp32 weights too). */
  externalFiles: number;
}

export interface WeightRewrite {
  /** MatMulNBits nodes rewritten, and left as they are. */
  converted: number;
  kept: number;
  /** fp32 weight bytes the rewrite would add as fp32, and the most this device allows (src/models/dtypes.ts). */
  fp32Bytes: number;
  fp32MaxBytes: number;
  /** What the rewritten nodes became (fp32 MatMul, or int8 MatMulInteger past the fp32 bound), and the bytes added. */
  to: 'fp32' | 'int8' | null;
  addedBytes: number;
  ms: number;
  /** Workers that filled the new weights (this one and its helpers, worker/rewrite-helpers.ts; 0 when nothing was rewritten), and why a helper's part was filled here instead. */
  workers: number;
  helperFailure: string | null;
  /** Why nodes were kept, when some were. */
  skipped: string | null;
}


/** What a load did with the browser cache (engines/local/worker/model-store.ts, the service worker). */
export interface CacheReport {
  /** 'cache': every file read from a cache; 'network': all downloaded; 'mixed': some of each (or a resumed download). */
  source: 'cache' | 'network' | 'mixed';
  /**
   * Whether this load's downloads are in the browser cache now: true, false (see `reason`), or null
   * where this app keeps no copy itself (an embedded model without the service worker, or a load
   * that asked for no caching, such as the benchmark's bare worker).
   */
  stored: boolean | null;
  /** Why they are not cached, in words, with the sizes where the quota is the cause. */
  reason: string | null;
  /** One sentence per resumed, restarted or repaired file. */
  notes: string[];
}

export interface GenerationDone {
  finishReason: FinishReason;
  text: string;
  inputTokens: number;
  outputTokens: number;
  outputTokenIds: number[];
  /** Engine clock (worker `performance.now()`), ms. */
  generateStart: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
  decodeStats: DecodeStats | null;
  /** Prompt tokens taken from the kept KV state (the rest were prefilled), and why none could be, where not a new conversation. */
  reusedInputTokens: number;
  prefillNote: string | null;
  /**
   * JSON output (a grammar constrained the answer): true when the structure was complete, false
   * when it ended before (max new tokens or a stop: "incomplete JSON"); null for text.
   */
  jsonComplete: boolean | null;
  /** The worker's WASM memory after this answer (high-water mark since load); null when not measured. */
  wasmHeapBytes: number | null;
  /** Turns left out to fit the model's context (src/inference/context.ts), 0 when none. */
  droppedMessages: number;
  /** The notice shown with the answer when turns were left out. */
  contextNote: string | null;
}

export type EngineErrorCode =
  | 'invalid-request'
  | 'model-not-found'
  | 'file-missing'
  | 'tokenizer-missing'
  | 'corrupt-model'
  | 'unsupported-model'
  | 'unsupported-device'
  | 'network'
  | 'out-of-memory'
  | 'too-big'
  | 'memory-tight'
  | 'worker-crashed'
  | 'device-lost'
  | 'context-too-long'
  | 'not-loaded'
  | 'busy'
  | 'internal';

export interface EngineError {
  code: EngineErrorCode;
  /** One sentence a user can act on. */
  message: string;
  /** The underlying error text, for the details disclosure. */
  detail?: string;
  file?: string;
  url?: string;
}

export type FromWorker =
  | { kind: 'probed'; id: RequestId; env: WorkerEnvironment }
  | { kind: 'plan'; id: RequestId; files: PlannedFile[]; totalBytes: number | null }
  | { kind: 'progress'; id: RequestId; file: string; loaded: number; total: number }
  | { kind: 'file-done'; id: RequestId; file: string }
  | { kind: 'phase'; id: RequestId; phase: 'download' | 'session' | 'warmup' }
  | { kind: 'loaded'; id: RequestId; info: LoadedInfo }
  | { kind: 'tokens'; id: RequestId; text: string; count: number }
  | { kind: 'done'; id: RequestId; result: GenerationDone }
  | { kind: 'ack'; id: RequestId }
  | { kind: 'error'; id: RequestId; error: EngineError }
  /** The worker can no longer run the model (WebGPU device lost, WASM abort); id 0: no request. */
  | { kind: 'crashed'; id: RequestId; error: EngineError };

const TO_WORKER_KINDS: ReadonlySet<string> = new Set<ToWorker['kind']>([
  'probe',
  'prepare',
  'load',
  'generate',
  'interrupt',
  'unload',
]);
const FROM_WORKER_KINDS: ReadonlySet<string> = new Set<FromWorker['kind']>([
  'probed',
  'plan',
  'progress',
  'file-done',
  'phase',
  'loaded',
  'tokens',
  'done',
  'ack',
  'error',
  'crashed',
]);

function hasKindAndId(data: unknown): data is { kind: string; id: number } {
  return (
    typeof data === 'object' &&
    data !== null &&
    'kind' in data &&
    typeof data.kind === 'string' &&
    'id' in data &&
    typeof data.id === 'number'
  );
}

/** Structural check at the boundary: anything else posted to the worker is ignored. */
export function isToWorker(data: unknown): data is ToWorker {
  return hasKindAndId(data) && TO_WORKER_KINDS.has(data.kind);
}

export function isFromWorker(data: unknown): data is FromWorker {
  return hasKindAndId(data) && FROM_WORKER_KINDS.has(data.kind);
}

/** Messages that end a request (the page resolves or rejects the pending promise on them). */
export function isTerminal(msg: FromWorker): boolean {
  switch (msg.kind) {
    case 'probed':
    case 'loaded':
    case 'done':
    case 'ack':
    case 'error':
    case 'crashed':
      return true;
    case 'plan':
    case 'progress':
    case 'file-done':
    case 'phase':
    case 'tokens':
      return false;
  }
}
