/**
 * POST /v1/chat/completions: validate → tokenize (so a too-long conversation is a 400 before any
 * waiting) → wait for the model in FIFO order → generate, streaming (SSE) or not. A client that
 * disconnects stops its generation at the next token, or leaves the queue if it was still waiting.
 * Every request that reached the queue leaves one timing record (GET /v1/slm/stats) and one log line.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { apiErrors, asApiError, type ApiError } from './errors';
import type { ChatModel, GenerationOutcome, PreparedPrompt } from './model';
import { chunk, completion, usage, usageChunk, type CompletionMeta, type FinishReason } from './openai-shapes';
import { FifoQueue, QueueAbortError, QueueFullError } from './queue';
import { SseWriter } from './sse';
import { formatTiming, round2, type RequestTiming, type StatsLog } from './stats';
import { parseChatRequest, type ChatRequest } from './validation';
import { errorText } from '../src/lib/errors';

export interface ChatContext {
  model: ChatModel;
  queue: FifoQueue;
  stats: StatsLog;
  log: (line: string) => void;
}

export const newCompletionId = () => `chatcmpl-${randomBytes(12).toString('hex')}`;

/** What one request measured, on the server clock (performance.now()). */
interface Clock {
  arrival: number;
  started: number | null;
  headers: number | null;
  firstByte: number | null;
}

export async function handleChatCompletion(
  res: ServerResponse,
  ctx: ChatContext,
  body: unknown,
  arrival: number,
  baseHeaders: Record<string, string>,
): Promise<void> {
  const r = parseChatRequest(body);
  if (r.model !== ctx.model.id) throw apiErrors.modelNotFound(r.model, ctx.model.id);
  const prompt = ctx.model.prepare(r.messages);
  // A JSON Schema is compiled (or found in the cache) before the request waits: a schema the
  // grammar compiler refuses is a 400 with its reason, never a failed stream.
  await ctx.model.prepareFormat(r.responseFormat);
  const meta: CompletionMeta = { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model: ctx.model.id };
  const clock: Clock = { arrival, started: null, headers: null, firstByte: null };
  const receivedAt = new Date().toISOString();

  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.on('close', onClose);

  const record = (status: number, outcome: GenerationOutcome | null, finish: RequestTiming['finishReason']) => {
    const since = (t: number | null) => (t === null ? null : round2(t - arrival));
    const o = outcome;
    const decodeTps =
      o && o.firstTokenAt !== null && o.lastTokenAt !== null && o.completionTokens > 1 && o.lastTokenAt > o.firstTokenAt
        ? round2(((o.completionTokens - 1) * 1000) / (o.lastTokenAt - o.firstTokenAt))
        : null;
    const t: RequestTiming = {
      id: meta.id,
      model: meta.model,
      stream: r.stream,
      status,
      receivedAt,
      queuedMs: round2((clock.started ?? performance.now()) - arrival),
      headersMs: since(clock.headers),
      firstTokenMs: since(o?.firstTokenAt ?? null),
      firstByteMs: since(clock.firstByte),
      totalMs: round2(performance.now() - arrival),
      promptTokens: prompt.promptTokens,
      cachedTokens: o?.cachedTokens ?? 0,
      completionTokens: o?.completionTokens ?? 0,
      decodeTps,
      finishReason: finish,
    };
    ctx.stats.record(t);
    ctx.log(formatTiming(t));
  };

  const job = async () => {
    clock.started = performance.now();
    const headers = { ...baseHeaders, 'x-request-id': meta.id, 'x-slm-model': meta.model, 'x-slm-queued-ms': String(round2(clock.started - arrival)) };
    const run: Run = { res, ctx, r, prompt, meta, headers, clock, signal: controller.signal, record };
    await (r.stream ? streamCompletion(run) : jsonCompletion(run));
  };

  try {
    await ctx.queue.run(job, controller.signal);
  } catch (e) {
    if (e instanceof QueueFullError) throw apiErrors.queueFull(e.retryAfterS);
    if (e instanceof QueueAbortError) {
      record(499, null, 'abort'); // the client left while waiting; nothing was sent
      return;
    }
    throw e;
  } finally {
    res.off('close', onClose);
  }
}

/** One admitted request, as the two response writers need it. */
interface Run {
  res: ServerResponse;
  ctx: ChatContext;
  r: ChatRequest;
  prompt: PreparedPrompt;
  meta: CompletionMeta;
  headers: Record<string, string>;
  clock: Clock;
  signal: AbortSignal;
  record: (status: number, outcome: GenerationOutcome | null, finish: RequestTiming['finishReason']) => void;
}

async function streamCompletion({ res, ctx, r, prompt, meta, headers, clock, signal, record }: Run): Promise<void> {
  const sse = new SseWriter(res);
  sse.open(headers);
  clock.headers = performance.now();
  sse.send(chunk(meta, { role: 'assistant', content: '' }, null, r.includeUsage));
  let outcome: GenerationOutcome;
  try {
    outcome = await ctx.model.generate(prompt, r, (text) => {
      sse.send(chunk(meta, { content: text }, null, r.includeUsage));
      clock.firstByte ??= performance.now();
    }, signal);
  } catch (e) {
    ctx.log(`${meta.id} generation failed: ${errorText(e)}`);
    sse.error(apiErrors.internal().toBody());
    record(200, null, 'error');
    return;
  }
  if (outcome.finishReason === 'abort') {
    record(200, outcome, 'abort');
    return;
  }
  const finish: FinishReason = outcome.finishReason;
  sse.send(chunk(meta, {}, finish, r.includeUsage));
  if (r.includeUsage) sse.send(usageChunk(meta, usage(prompt.promptTokens, outcome.completionTokens, outcome.cachedTokens)));
  sse.done();
  record(200, outcome, finish);
}

async function jsonCompletion({ res, ctx, r, prompt, meta, headers, clock, signal, record }: Run): Promise<void> {
  let outcome: GenerationOutcome;
  try {
    outcome = await ctx.model.generate(prompt, r, () => {}, signal);
  } catch (e) {
    ctx.log(`${meta.id} generation failed: ${errorText(e)}`);
    record(500, null, 'error');
    throw apiErrors.internal();
  }
  if (outcome.finishReason === 'abort') {
    record(499, outcome, 'abort');
    return;
  }
  const finish: FinishReason = outcome.finishReason;
  const body = JSON.stringify(completion(meta, outcome.text, finish, usage(prompt.promptTokens, outcome.completionTokens, outcome.cachedTokens)));
  const firstTokenMs = outcome.firstTokenAt === null ? null : round2(outcome.firstTokenAt - clock.arrival);
  res.writeHead(200, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...(firstTokenMs === null ? {} : { 'x-slm-first-token-ms': String(firstTokenMs) }),
  });
  clock.headers = performance.now();
  res.end(body);
  clock.firstByte = performance.now();
  record(200, outcome, finish);
}

/** Writes an error as JSON (status, headers, OpenAI body), unless a response already started. */
export function sendError(res: ServerResponse, e: ApiError | unknown, baseHeaders: Record<string, string>): void {
  const err = asApiError(e);
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify(err.toBody());
  res.writeHead(err.status, { ...baseHeaders, ...err.headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
