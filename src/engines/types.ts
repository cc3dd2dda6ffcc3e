/**
 * The one interface everything that compares talks to. A local worker engine and a hosted client
 * both implement it, stream the same chunk shape and produce the same timing record.
 */
import type { DecodeStats } from '../inference/kv-decoder';
import type { GenerationParams } from '../inference/params';
import type { RunMetrics } from '../metrics/timing';

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export { DEFAULT_GENERATION, validateGenerationParams, type GenerationParams } from '../inference/params';

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
  /**
   * Called when the request has left the page: hosted engines at the `fetch()` call of the chat
   * request, local engines when the message to the worker is posted. Not called when the engine
   * fails first; may be called again (a retried request): the first call counts. The page renders a
   * send after it (compare/send-start.ts), so its render is not inside the request's TTFT.
   */
  onSent?: () => void;
  /** Local engines: start from the KV state kept from the last conversation where it fits (default true). */
  kvReuse?: boolean;
}

export interface RunResult {
  text: string;
  finishReason: FinishReason;
  metrics: RunMetrics;
  /** Generated token ids, where the engine exposes them (local engines). */
  outputTokenIds?: number[];
  /** Local engines: what the worker's KV decode loop did (null when transformers.js generated). */
  decodeStats?: DecodeStats | null;
  /**
   * Engines that constrain decoding (local, JSON output): true when the grammar saw the structure
   * complete, false when the answer ended before it ("incomplete JSON", finish 'length'); null: text.
   */
  jsonComplete?: boolean | null;
  /**
   * Hosted engines: the endpoint refused the requested JSON output (response_format) and the answer
   * was requested as plain text; this is the message to show. Absent otherwise.
   */
  formatFallback?: string;
  /** Shown with the answer: e.g. that the oldest turns were left out to fit the model's context. */
  notice?: string | null;
}

export type { DecodeStats } from '../inference/kv-decoder';

export interface ChatEngine {
  readonly kind: 'local' | 'hosted';
  /** Human-readable name of the model behind the engine. */
  readonly label: string;
  generate(request: GenerateRequest): Promise<RunResult>;
}
