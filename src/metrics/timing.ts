/**
 * The timing record, defined once for every engine (see docs/metrics.md).
 * All times are milliseconds from a monotonic clock. Main-thread times come from the page's
 * `performance.now()`; engine-side times (inside the worker) come from the worker's own clock and
 * are only ever subtracted from each other, never mixed with main-thread times.
 */

export interface RunClock {
  /** Main thread: when the engine's generate call was made. */
  requestStart: number;
  /** Main thread: when the first non-empty content chunk arrived (null if none did). */
  firstChunkAt: number | null;
  /** Main thread: when the last content chunk arrived. */
  lastChunkAt: number | null;
  /** Main thread: when the final chunk / completion arrived. */
  end: number;
}

/** Measured inside the engine (worker), on its own clock. Hosted engines leave it null. */
export interface EngineClock {
  generateStart: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
}

export type TokenCountSource = 'tokenizer' | 'usage' | 'estimated';

export interface RunContext {
  engine: 'local' | 'hosted';
  model: string;
  device: string;
  dtype: string | null;
  threads: number | null;
  crossOriginIsolated: boolean | null;
}

export interface RunMetrics extends RunContext {
  ttftMs: number | null;
  e2eMs: number;
  /** Input tokens ÷ (first token − generate start) inside the engine; null when not observable. */
  prefillTps: number | null;
  /** (output tokens − 1) ÷ (last chunk − first chunk), as the user sees it on the main thread. */
  decodeTps: number | null;
  /** Same formula on the engine's own clock (no message passing); null for hosted engines. */
  engineDecodeTps: number | null;
  inputTokens: number;
  /**
   * Of the input tokens, how many were taken from a kept KV cache instead of being prefilled
   * (the rest were prefilled). Null or absent: the engine does not say (records from before it did
   * leave it out).
   */
  reusedInputTokens?: number | null;
  /** Why fewer prompt tokens were reused than the engine kept ("prefilled whole: system prompt edited"), or why it keeps none; null or absent: nothing to say, or unknown. */
  prefillNote?: string | null;
  outputTokens: number;
  tokenCountSource: TokenCountSource;
  /**
   * Local engines: the model worker's WASM memory after this answer, bytes — its peak since the
   * load (WASM memory never shrinks). Null or absent: not measured (hosted, or older records).
   */
  memoryPeakBytes?: number | null;
}

/** Memory of one load, measured (docs/metrics.md "Memory"). Every figure in bytes, null where not measured. */
export interface LoadMemory {
  /** The dtype's ONNX files (graph + external data). */
  weightsBytes: number | null;
  /** The model worker's WASM memory after load: its peak so far (it never shrinks). */
  wasmHeapBytes: number | null;
  /** Page and its workers, after load (performance.measureUserAgentSpecificMemory). */
  pageBytes: number | null;
  /** The same page before the load. */
  baselineBytes: number | null;
  /** What could not be measured, and why; null when everything was. */
  note: string | null;
}

/** (peak − footprint before load) ÷ weights: page-wide where measured, else the worker's WASM heap alone. */
export function memoryOverFile(m: LoadMemory): number | null {
  if (!m.weightsBytes) return null;
  if (m.pageBytes !== null && m.baselineBytes !== null) return (m.pageBytes - m.baselineBytes) / m.weightsBytes;
  return m.wasmHeapBytes === null ? null : m.wasmHeapBytes / m.weightsBytes;
}

export interface LoadMetrics {
  /** Wall time from the load request to the last model file being in memory. */
  downloadMs: number;
  /** Bytes of model files read (from the network or the browser cache). */
  downloadBytes: number;
  /** Whether every file came from the browser cache. */
  fromCache: boolean;
  /** Creating the inference session(s) after the files were in memory. */
  sessionCreateMs: number;
  /** The warm-up generation run before the engine reports ready (0 when skipped). */
  warmupMs: number;
  warmupTokens: number;
  /** Load request → ready, as seen on the main thread. */
  totalMs: number;
  /** Measured memory; absent in records from before it was measured. */
  memory?: LoadMemory | null;
}

/** Tokens per second over `tokens` tokens in `ms`; null when it cannot be measured honestly. */
export function rate(tokens: number, ms: number | null): number | null {
  if (ms === null || !Number.isFinite(ms) || ms <= 0 || tokens <= 0) return null;
  return (tokens * 1000) / ms;
}

/**
 * The one rule for a decode rate too short to mean anything: fewer than this many milliseconds or
 * token intervals between the first and last token. Measured: a 3-token hosted answer in 2 ms read
 * "19048 tok/s", and a 15-token local answer 3684 tok/s on the page clock (its chunks arrive per
 * frame) against 1233 on the engine clock; below ~50 ms the clocks' and batching's granularity is
 * the rate. Such a rate is null, and every view shows it as "—" with RATE_TOO_SHORT as its tooltip.
 */
export const MIN_DECODE_WINDOW_MS = 50;
export const MIN_DECODE_INTERVALS = 4;

/** Decode rate excludes the first token: (n − 1) tokens over (last − first); null when too short (above). */
export function decodeRate(outputTokens: number, first: number | null, last: number | null): number | null {
  if (first === null || last === null) return null;
  if (last - first < MIN_DECODE_WINDOW_MS || outputTokens - 1 < MIN_DECODE_INTERVALS) return null;
  return rate(outputTokens - 1, last - first);
}

export interface RunMetricsInput {
  context: RunContext;
  clock: RunClock;
  engineClock: EngineClock | null;
  inputTokens: number;
  /** See RunMetrics; null or absent: unknown. */
  reusedInputTokens?: number | null;
  prefillNote?: string | null;
  outputTokens: number;
  tokenCountSource: TokenCountSource;
  memoryPeakBytes?: number | null;
}

export function computeRunMetrics(input: RunMetricsInput): RunMetrics {
  const { clock, engineClock: ec } = input;
  const ttftMs = clock.firstChunkAt === null ? null : clock.firstChunkAt - clock.requestStart;
  // Prefill speed counts the tokens that were run, not those taken from a kept cache.
  const prefilled = input.inputTokens - (input.reusedInputTokens ?? 0);
  const prefillTps = ec && ec.firstTokenAt !== null ? rate(prefilled, ec.firstTokenAt - ec.generateStart) : null;
  return {
    ...input.context,
    ttftMs,
    e2eMs: clock.end - clock.requestStart,
    prefillTps,
    decodeTps: decodeRate(input.outputTokens, clock.firstChunkAt, clock.lastChunkAt),
    engineDecodeTps: ec ? decodeRate(input.outputTokens, ec.firstTokenAt, ec.lastTokenAt) : null,
    inputTokens: input.inputTokens,
    reusedInputTokens: input.reusedInputTokens ?? null,
    ...(input.prefillNote ? { prefillNote: input.prefillNote } : {}),
    outputTokens: input.outputTokens,
    tokenCountSource: input.tokenCountSource,
    ...(input.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: input.memoryPeakBytes }),
  };
}
