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
  outputTokens: number;
  tokenCountSource: TokenCountSource;
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
}

/** Tokens per second over `tokens` tokens in `ms`; null when it cannot be measured honestly. */
export function rate(tokens: number, ms: number | null): number | null {
  if (ms === null || !Number.isFinite(ms) || ms <= 0 || tokens <= 0) return null;
  return (tokens * 1000) / ms;
}

/** Decode rate excludes the first token: (n − 1) tokens over (last − first). */
export function decodeRate(outputTokens: number, first: number | null, last: number | null): number | null {
  if (first === null || last === null) return null;
  return rate(outputTokens - 1, last - first);
}

export interface RunMetricsInput {
  context: RunContext;
  clock: RunClock;
  engineClock: EngineClock | null;
  inputTokens: number;
  outputTokens: number;
  tokenCountSource: TokenCountSource;
}

export function computeRunMetrics(input: RunMetricsInput): RunMetrics {
  const { clock, engineClock: ec } = input;
  const ttftMs = clock.firstChunkAt === null ? null : clock.firstChunkAt - clock.requestStart;
  const prefillTps = ec && ec.firstTokenAt !== null ? rate(input.inputTokens, ec.firstTokenAt - ec.generateStart) : null;
  return {
    ...input.context,
    ttftMs,
    e2eMs: clock.end - clock.requestStart,
    prefillTps,
    decodeTps: decodeRate(input.outputTokens, clock.firstChunkAt, clock.lastChunkAt),
    engineDecodeTps: ec ? decodeRate(input.outputTokens, ec.firstTokenAt, ec.lastTokenAt) : null,
    inputTokens: input.inputTokens,
    outputTokens: input.outputTokens,
    tokenCountSource: input.tokenCountSource,
  };
}
