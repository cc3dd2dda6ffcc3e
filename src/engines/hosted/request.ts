/** GenerationParams → a streaming Chat Completions request body, in what the endpoint understands. */
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { isConstrained, type ResponseFormat } from '../../inference/response-format';
import type { ChatMessage, GenerationParams } from '../types';
import type { EndpointPreset, StructuredOutputSupport } from './presets';

/** What the endpoint is told when it cannot constrain the answer (the comparison shows it). */
export const FORMAT_FALLBACK_MESSAGE = 'this endpoint does not support JSON Schema output; the answer was requested as plain text';
export const JSON_MODE_ONLY_MESSAGE = 'this endpoint supports JSON mode only; the answer was requested as any JSON object, without the schema';

export type ResponseFormatParam = NonNullable<ChatCompletionCreateParamsStreaming['response_format']>;

/**
 * The app's output format → OpenAI's `response_format` for an endpoint with `support`, and the
 * note to show when the endpoint cannot do what was asked (null when it can, and for text).
 * A JSON Schema goes out strict: `{ type: 'json_schema', json_schema: { name, schema, strict: true } }`.
 */
export function responseFormatParam(f: ResponseFormat | undefined, support: StructuredOutputSupport): { param: ResponseFormatParam | null; note: string | null } {
  if (!isConstrained(f)) return { param: null, note: null };
  if (support === 'none') return { param: null, note: FORMAT_FALLBACK_MESSAGE };
  if (f.type === 'json_object') return { param: { type: 'json_object' }, note: null };
  if (support === 'json_object') return { param: { type: 'json_object' }, note: JSON_MODE_ONLY_MESSAGE };
  return { param: { type: 'json_schema', json_schema: { name: f.name, schema: f.schema, strict: true } }, note: null };
}

/** OpenAI's streaming body plus the extensions some servers take (vLLM, llama.cpp, the reference server). */
export type ChatRequestBody = ChatCompletionCreateParamsStreaming & {
  top_k?: number;
  min_tokens?: number;
  repetition_penalty?: number;
};

export function buildChatRequest(
  model: string,
  messages: readonly ChatMessage[],
  p: GenerationParams,
  preset: Pick<EndpointPreset, 'maxTokensParam' | 'params'> & Partial<Pick<EndpointPreset, 'structuredOutput'>>,
): ChatRequestBody {
  const body: ChatRequestBody = {
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (preset.maxTokensParam === 'max_completion_tokens') body.max_completion_tokens = p.maxNewTokens;
  else body.max_tokens = p.maxNewTokens;
  if (p.greedy) body.temperature = 0;
  else {
    body.temperature = p.temperature;
    body.top_p = p.topP;
    if (preset.params.topK && p.topK > 0) body.top_k = p.topK;
  }
  if (preset.params.repetitionPenalty && p.repetitionPenalty !== 1) body.repetition_penalty = p.repetitionPenalty;
  if (preset.params.minTokens && p.minNewTokens) body.min_tokens = p.minNewTokens;
  const { param } = responseFormatParam(p.responseFormat, preset.structuredOutput ?? 'none');
  if (param) body.response_format = param;
  return body;
}

/** Rough token count when the endpoint reports no usage: about four characters per token. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.round(text.length / 4));
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return estimateTokens(messages.map((m) => m.content).join(''));
}
