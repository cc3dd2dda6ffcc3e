/** GenerationParams → a streaming Chat Completions request body, in what the endpoint understands. */
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { ChatMessage, GenerationParams } from '../types';
import type { EndpointPreset } from './presets';

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
  preset: Pick<EndpointPreset, 'maxTokensParam' | 'params'>,
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
  return body;
}

/** Rough token count when the endpoint reports no usage: about four characters per token. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.round(text.length / 4));
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return estimateTokens(messages.map((m) => m.content).join(''));
}
