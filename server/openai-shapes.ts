/** The response objects of the Chat Completions API, as this server sends them. */

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** OpenAI's field: prompt tokens taken from the prefix cache. */
  prompt_tokens_details: { cached_tokens: number };
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

export const SYSTEM_FINGERPRINT = 'slm-reference-server';

export function usage(promptTokens: number, completionTokens: number, cachedTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
}

/** One `chat.completion.chunk`. `usage` is present (null) on every chunk when the client asked for it. */
export function chunk(meta: CompletionMeta, delta: ChunkDelta, finishReason: FinishReason | null, withUsageField: boolean) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsageField ? { usage: null } : {}),
  };
}

/** The last chunk when `stream_options.include_usage` is true: no choices, the usage. */
export function usageChunk(meta: CompletionMeta, u: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [],
    usage: u,
  };
}

export function completion(meta: CompletionMeta, text: string, finishReason: FinishReason, u: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message: { role: 'assistant' as const, content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage: u,
  };
}

export function modelObject(id: string, created: number) {
  return { id, object: 'model' as const, created, owned_by: 'slm-playground' };
}
