/**
 * The one interface everything that compares talks to. A local worker engine and a hosted client
 * both implement it, stream the same chunk shape and produce the same timing record.
 */
import type { RunMetrics } from '../metrics/timing';

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

/** Sampling settings, in one shape for every engine. `greedy` overrides the sampling knobs. */
export interface GenerationParams {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  greedy: boolean;
  /** Ignore end-of-sequence until this many tokens (benchmarks use it for fixed-length runs). */
  minNewTokens?: number;
}

export const DEFAULT_GENERATION: GenerationParams = {
  maxNewTokens: 128,
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  repetitionPenalty: 1.0,
  greedy: true,
};

export type FinishReason = 'stop' | 'length' | 'abort' | 'content_filter' | 'error';

/** A piece of streamed output as the main thread receives it. */
export interface StreamChunk {
  /** New text (may be several tokens: the worker batches what the UI can render per frame). */
  text: string;
  /** Number of tokens this chunk carries. */
  tokens: number;
  /** Main-thread `performance.now()` when the chunk arrived. */
  at: number;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  params: GenerationParams;
  signal?: AbortSignal;
  onChunk?: (chunk: StreamChunk) => void;
}

export interface RunResult {
  text: string;
  finishReason: FinishReason;
  metrics: RunMetrics;
  /** Generated token ids, where the engine exposes them (local engines). */
  outputTokenIds?: number[];
  /** Local engines: what the worker's KV decode loop did (null when transformers.js generated). */
  decodeStats?: DecodeStats | null;
}

/** What the local worker's KV decode loop did in one generation (see worker/kv-decoder.ts). */
export interface DecodeStats {
  /** session.run calls: one prefill plus one per further token. */
  steps: number;
  /** Outputs ONNX Runtime wrote into reused buffers / allocated itself. */
  pooledOutputs: number;
  allocatedOutputs: number;
}

export interface ChatEngine {
  readonly kind: 'local' | 'hosted';
  /** Human-readable name of the model behind the engine. */
  readonly label: string;
  generate(request: GenerateRequest): Promise<RunResult>;
}

/** Validates user-entered generation settings; returns a specific message per bad field. */
export function validateGenerationParams(p: GenerationParams): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, msg: string) => {
    if (!ok) errors.push(msg);
  };
  check(Number.isInteger(p.maxNewTokens) && p.maxNewTokens >= 1 && p.maxNewTokens <= 32768, 'Max new tokens must be a whole number from 1 to 32768.');
  check(Number.isFinite(p.temperature) && p.temperature > 0 && p.temperature <= 5, 'Temperature must be above 0 and at most 5 (use greedy for 0).');
  check(Number.isFinite(p.topP) && p.topP > 0 && p.topP <= 1, 'Top-p must be above 0 and at most 1.');
  check(Number.isInteger(p.topK) && p.topK >= 0, 'Top-k must be a whole number ≥ 0 (0 turns it off).');
  check(p.minNewTokens === undefined || (Number.isInteger(p.minNewTokens) && p.minNewTokens >= 0 && p.minNewTokens <= p.maxNewTokens), 'Min new tokens must be a whole number from 0 to max new tokens.');
  check(Number.isFinite(p.repetitionPenalty) && p.repetitionPenalty >= 1 && p.repetitionPenalty <= 3, 'Repetition penalty must be from 1 (off) to 3.');
  return errors;
}
