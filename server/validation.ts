/**
 * Validation of a Chat Completions request body (zod), turned into the one normalized shape the
 * generator takes. Every problem becomes a 400 in OpenAI's format naming the bad parameter.
 * Unknown fields are ignored, as OpenAI-compatible servers commonly do; known fields this server
 * cannot honour (tools, logprobs, n > 1, penalties other than repetition_penalty) are refused
 * rather than silently ignored.
 */
import { z } from 'zod';
import { LIMITS, minWithinMax } from '../src/inference/params';
import { checkResponseFormat, TEXT_FORMAT, type ResponseFormat } from '../src/inference/response-format';
import { apiErrors, type ApiError } from './errors';

export type Role = 'system' | 'user' | 'assistant';
export interface PromptMessage {
  role: Role;
  content: string;
}

export interface Sampling {
  /** null: the model's own default (greedy for the embedded models). 0 means greedy. */
  temperature: number | null;
  topP: number | null;
  /** 0 or -1 turn it off. */
  topK: number | null;
  repetitionPenalty: number | null;
  seed: number | null;
}

export interface ChatRequest {
  model: string;
  messages: PromptMessage[];
  stream: boolean;
  includeUsage: boolean;
  /** max_completion_tokens ?? max_tokens; null: as many as the context allows. */
  maxTokens: number | null;
  /** Extension (vLLM): ignore end-of-sequence until this many tokens. */
  minTokens: number;
  sampling: Sampling;
  stop: string[];
  /** Text, any JSON object, or JSON matching a schema: the last two constrain decoding (src/inference/grammar.ts). */
  responseFormat: ResponseFormat;
}

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const contentPart = z.object({ type: z.string() }).loose();

const messageSchema = z
  .object({
    role: z.string(),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(z.unknown()).nullish(),
    function_call: z.unknown().optional(),
  })
  .loose();

const int = () => z.number().int();

const requestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: int().min(1).nullish(),
  max_completion_tokens: int().min(1).nullish(),
  min_tokens: int().min(0).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  // The app's bounds (src/inference/params.ts) where OpenAI's fields mean the same thing; temperature
  // keeps OpenAI's range (0 = greedy there).
  top_k: int().min(-1).max(LIMITS.topK).nullish(),
  repetition_penalty: z.number().gt(0).max(LIMITS.repetitionPenalty).nullish(),
  seed: int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: int().min(1).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int().min(0).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish(), description: z.string().nullish() }),
      }),
    ])
    .nullish(),
});

/** OpenAI's response_format → the app's, refused (400) with the reason when no grammar can be made of it. */
function responseFormat(rf: z.infer<typeof requestSchema>['response_format']): ResponseFormat {
  if (!rf) return TEXT_FORMAT;
  const f: ResponseFormat = rf.type === 'json_schema' ? { type: 'json_schema', name: rf.json_schema.name, schema: rf.json_schema.schema } : { type: rf.type };
  const problems = checkResponseFormat(f);
  if (problems.length) throw apiErrors.badRequest(`Invalid 'response_format': ${problems.join(' ')}`, 'response_format', 'invalid_value');
  return f;
}

/** A zod issue path as OpenAI writes parameters: messages[0].role. */
export function paramName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

const ROLE_ALIASES: Record<string, Role> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

function normalizeMessage(m: z.infer<typeof messageSchema>, i: number): PromptMessage {
  const role = ROLE_ALIASES[m.role];
  if (!role) {
    const hint = m.role === 'tool' || m.role === 'function' ? ' This server does not support tool calling.' : '';
    throw apiErrors.badRequest(
      `Invalid value for 'messages[${i}].role': '${m.role}'. Supported roles are system, developer, user and assistant.${hint}`,
      `messages[${i}].role`,
      'invalid_value',
    );
  }
  if ((m.tool_calls && m.tool_calls.length > 0) || m.function_call !== undefined) {
    throw apiErrors.unsupported(`messages[${i}].tool_calls`, 'This server does not support tool calling.');
  }
  let content: string;
  if (typeof m.content === 'string') content = m.content;
  else if (Array.isArray(m.content)) {
    const texts: string[] = [];
    for (const [j, part] of m.content.entries()) {
      const parsed = textPart.safeParse(part);
      if (!parsed.success) {
        throw apiErrors.badRequest(
          `Invalid content part 'messages[${i}].content[${j}]': only text parts ({"type":"text","text":...}) are supported.`,
          `messages[${i}].content[${j}]`,
          'invalid_value',
        );
      }
      texts.push(parsed.data.text);
    }
    content = texts.join('');
  } else if (role === 'assistant') content = '';
  else throw apiErrors.badRequest(`Missing 'messages[${i}].content'.`, `messages[${i}].content`, 'missing_required_parameter');
  return { role, content };
}

/** Parses and validates a request body; throws ApiError (400) on the first problem. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.badRequest('The request body must be a JSON object.', null, 'invalid_type');
  }
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) throw issueError(parsed.error.issues[0], body);
  const r = parsed.data;
  const refuse = (param: string, message: string): ApiError => apiErrors.unsupported(param, message);
  if ((r.n ?? 1) !== 1) throw refuse('n', 'This server generates one choice per request; n must be 1.');
  if (r.logprobs) throw refuse('logprobs', 'This server does not return logprobs.');
  if (r.tools?.length || r.functions?.length) throw refuse('tools', 'This server does not support tool calling.');
  if (r.logit_bias && Object.keys(r.logit_bias).length > 0) throw refuse('logit_bias', 'This server does not support logit_bias.');
  for (const p of ['frequency_penalty', 'presence_penalty'] as const) {
    if ((r[p] ?? 0) !== 0) throw refuse(p, `This server does not support ${p}; use repetition_penalty (an extension, 1 = off).`);
  }
  if (r.stream_options && !r.stream) {
    throw apiErrors.badRequest("'stream_options' is only allowed when 'stream' is true.", 'stream_options', 'invalid_value');
  }
  const maxTokens = r.max_completion_tokens ?? r.max_tokens ?? null;
  const minTokens = r.min_tokens ?? 0;
  if (!minWithinMax(minTokens, maxTokens)) {
    throw apiErrors.badRequest("'min_tokens' must not be larger than 'max_tokens'.", 'min_tokens', 'invalid_value');
  }
  const stop = r.stop == null ? [] : (typeof r.stop === 'string' ? [r.stop] : r.stop).filter((s) => s.length > 0);
  return {
    model: r.model,
    messages: r.messages.map(normalizeMessage),
    stream: r.stream ?? false,
    includeUsage: r.stream_options?.include_usage ?? false,
    maxTokens,
    minTokens,
    sampling: {
      temperature: r.temperature ?? null,
      topP: r.top_p ?? null,
      topK: r.top_k ?? null,
      repetitionPenalty: r.repetition_penalty ?? null,
      seed: r.seed ?? null,
    },
    stop,
    responseFormat: responseFormat(r.response_format),
  };
}

function issueError(issue: z.core.$ZodIssue | undefined, body: object): ApiError {
  if (!issue) return apiErrors.badRequest('Invalid request body.');
  const param = paramName(issue.path);
  const top = issue.path[0];
  if (issue.path.length === 1 && typeof top === 'string' && !(top in body)) {
    return apiErrors.badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }
  return apiErrors.badRequest(`Invalid value for '${param}': ${issue.message}.`, param, 'invalid_value');
}
