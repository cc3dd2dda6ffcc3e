/**
 * A hosted LLM behind an OpenAI-compatible API, as a ChatEngine. Streams with the official
 * `openai` client (which parses the SSE), produces the same chunk shape and the same timing record
 * as the local engine (main-thread clock; no engine clock, so no prefill rate), and turns every
 * failure into a HostedError with a sentence the user can act on.
 */
import type OpenAI from 'openai';
import type { CompletionUsage } from 'openai/resources/completions';
import { computeRunMetrics, type TokenCountSource } from '../../metrics/timing';
import type { ChatEngine, FinishReason, GenerateRequest, RunResult } from '../types';
import { HostedError, notEventStreamError, timeoutError, truncatedError, type Phase } from './errors';
import type { BoundKey } from './keys';
import { buildClientConfig, PRESETS, type ClientConfig, type EndpointPreset, type EndpointSettings } from './presets';
import { checkResponseFormat } from '../../inference/response-format';
import { buildChatRequest, estimatePromptTokens, estimateTokens, FORMAT_FALLBACK_MESSAGE, responseFormatParam, type ChatRequestBody } from './request';
import { IdleWatchdog } from './watchdog';
import { notifyOnFetch } from './arrival';
import { errorText } from '../../lib/errors';

export interface HostedEngineOptions {
  endpoint: EndpointSettings;
  /** The key, bound to the origin it was entered for (see keys.ts); null for endpoints without one. */
  key?: BoundKey | null;
  /** Longest silence (ms) between stream chunks before the request is stopped with a 'timeout' error. */
  idleTimeoutMs?: number;
  /** Longest wait (ms) from the request to the first chunk (queueing, prompt processing). */
  firstChunkTimeoutMs?: number;
  /** SDK retries on connection errors, 408/409/429/5xx (default 0: a retry would hide inside TTFT). */
  maxRetries?: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_FIRST_CHUNK_TIMEOUT_MS = 120_000;

/** OpenAI finish reasons → ours ('tool_calls' / 'function_call' end the answer like 'stop'). */
export function mapFinishReason(reason: string): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return 'stop';
}

/** A result with the note that the endpoint could not constrain the answer, where there is one. */
function withNote(r: RunResult, note: string | null): RunResult {
  return note ? { ...r, formatFallback: note } : r;
}

/**
 * Whether an endpoint refused the request because of `response_format` (a 400/422 whose message
 * names it, JSON Schema or structured output), before any text came: then it is retried as text.
 */
export function refusedResponseFormat(e: unknown): boolean {
  if (!(e instanceof HostedError) || e.code !== 'bad_request' || e.partialText) return false;
  return /response_format|json_schema|json schema|structured output|json mode/i.test(e.message);
}

/** Visible output tokens from usage: reasoning tokens (hidden, before the first chunk) are left out. */
function visibleTokens(u: CompletionUsage): number {
  return Math.max(0, u.completion_tokens - (u.completion_tokens_details?.reasoning_tokens ?? 0));
}

export class HostedEngine implements ChatEngine {
  readonly kind = 'hosted' as const;
  readonly preset: EndpointPreset;
  /** The `id` of the last completion streamed (matches the reference server's GET /v1/slm/stats/{id}). */
  lastCompletionId: string | null = null;
  private readonly config: ClientConfig;
  /** The SDK client, built once per engine: the SDK is loaded by `preload()` or the first request. */
  private sdk: Promise<{ client: OpenAI; toHostedError: typeof import('./sdk').toHostedError; arrivalOf: typeof import('./sdk').arrivalOf }> | null = null;
  private readonly secrets: readonly string[];
  private readonly host: string;
  private model: string;

  /** Throws HostedError ('invalid_config', 'key_origin_mismatch') for settings it cannot use. */
  constructor(private readonly options: HostedEngineOptions) {
    this.preset = PRESETS[options.endpoint.presetId];
    this.config = buildClientConfig(options.endpoint, options.key ?? null);
    this.secrets = options.key?.secret ? [options.key.secret] : [];
    this.host = new URL(this.config.origin).host;
    this.model = options.endpoint.model.trim();
  }

  /** The model (or deployment) name requests carry; '' until the endpoint's list was read. */
  get modelName(): string {
    return this.model;
  }

  get label(): string {
    return this.model ? `${this.model} (${this.host})` : `${this.preset.label} (${this.host})`;
  }

  /**
   * Loads the SDK and builds the client ahead of the first request (the app calls it when a hosted
   * pane is enabled). Measured in the page: the first request otherwise waited 40 ms for the SDK's
   * chunk (from the service worker's cache) before it could leave. A failure is left to that request.
   */
  preload(): void {
    this.loadSdk().catch(() => undefined);
  }

  /** Loads the SDK (once) and builds the client. A failed load (offline, a stale deploy) is a HostedError. */
  private loadSdk() {
    this.sdk ??= import('./sdk').then(
      (m) => ({
        client: m.createClient(this.config, this.options.maxRetries === undefined ? {} : { maxRetries: this.options.maxRetries }),
        toHostedError: m.toHostedError,
        arrivalOf: m.arrivalOf,
      }),
      (e: unknown) => {
        this.sdk = null;
        throw new HostedError({
          code: 'unknown',
          message: `Could not load the app's hosted-endpoint code (${errorText(e)}). Reload the page; if you are offline, hosted endpoints cannot be used anyway.`,
        });
      },
    );
    return this.sdk;
  }

  /** Model names from GET /models; [] where the endpoint has no usable list (Azure deployments). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    if (!this.preset.listModels) return [];
    const sdk = await this.loadSdk();
    const ids: string[] = [];
    try {
      for await (const m of sdk.client.models.list(signal ? { signal } : undefined)) {
        ids.push(m.id);
        if (ids.length >= 1000) break;
      }
    } catch (e) {
      throw this.error(sdk.toHostedError, e, 'request', '');
    }
    return ids;
  }

  private error(map: typeof import('./sdk').toHostedError, e: unknown, phase: Phase, partialText: string): HostedError {
    return map(e, { origin: this.config.origin, model: this.model, phase, secrets: this.secrets, corsHint: this.config.corsHint, partialText });
  }

  /** The model to ask for: the configured one, else the first the endpoint lists (then kept). */
  async resolveModel(signal: AbortSignal | undefined): Promise<string> {
    if (this.model) return this.model;
    const first = (await this.listModels(signal))[0];
    if (!first) throw new HostedError({ code: 'invalid_config', message: `${this.host} lists no models. Enter the model name.` });
    this.model = first;
    return first;
  }

  async generate(req: GenerateRequest): Promise<RunResult> {
    // The clock starts at the call (docs/metrics.md): loading the SDK, learning the model's name and
    // building the request are part of what the user waits for, and of TTFT.
    const requestStart = performance.now();
    const format = req.params.responseFormat;
    const problems = format ? checkResponseFormat(format) : [];
    if (problems.length) throw new HostedError({ code: 'invalid_config', message: problems.join(' ') });
    const model = await this.resolveModel(req.signal);
    const sdk = await this.loadSdk();
    const body = buildChatRequest(model, req.messages, req.params, this.preset);
    const { note } = responseFormatParam(format, this.preset.structuredOutput);
    if (!body.response_format) return withNote(await this.stream(model, sdk, body, req, requestStart), note);
    try {
      return withNote(await this.stream(model, sdk, body, req, requestStart), note);
    } catch (e) {
      if (!refusedResponseFormat(e)) throw e;
      // The endpoint refused response_format before answering: the same request as plain text.
      const { response_format: _, ...plain } = body;
      return withNote(await this.stream(model, sdk, plain, req, requestStart), FORMAT_FALLBACK_MESSAGE);
    }
  }

  private async stream(model: string, sdk: Awaited<ReturnType<HostedEngine['loadSdk']>>, body: ChatRequestBody, req: GenerateRequest, requestStart: number): Promise<RunResult> {
    const idleMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const firstMs = this.options.firstChunkTimeoutMs ?? DEFAULT_FIRST_CHUNK_TIMEOUT_MS;

    const controller = new AbortController();
    const onUserAbort = () => controller.abort();
    if (req.signal?.aborted) controller.abort();
    req.signal?.addEventListener('abort', onUserAbort, { once: true });
    const watchdog = new IdleWatchdog(() => controller.abort());
    watchdog.arm(firstMs);

    let phase: Phase = 'request';
    let text = '';
    let firstChunkAt: number | null = null;
    let lastChunkAt: number | null = null;
    let finish: FinishReason | null = null;
    let usage: CompletionUsage | null = null;
    let callbackError: { error: unknown } | null = null;
    let contentType: string | null = null;
    let events = 0;
    const userAborted = () => req.signal?.aborted === true && !watchdog.hasFired;

    try {
      const { data: stream, response } = await sdk.client.chat.completions.create(body, { signal: controller.signal, ...notifyOnFetch(req.onSent) }).withResponse();
      contentType = response.headers.get('content-type');
      const arrival = sdk.arrivalOf(response);
      phase = 'stream';
      for await (const chunk of stream) {
        events++;
        watchdog.arm(idleMs);
        if (chunk.id) this.lastCompletionId = chunk.id;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta?.content;
        if (delta) {
          // When the network read that carried this chunk arrived (arrival.ts), not when it was parsed.
          const at = arrival?.last ?? performance.now();
          firstChunkAt ??= at;
          lastChunkAt = at;
          text += delta;
          try {
            req.onChunk?.({ text: delta, tokens: 1, at });
          } catch (error) {
            callbackError = { error };
            controller.abort();
          }
        }
        if (choice.finish_reason) finish = mapFinishReason(choice.finish_reason);
      }
    } catch (e) {
      if (callbackError) throw callbackError.error;
      if (userAborted()) return this.result(model, text, 'abort', req, { requestStart, firstChunkAt, lastChunkAt }, null);
      if (watchdog.hasFired) throw timeoutError(this.config.origin, watchdog.firedAfterMs, text);
      throw this.error(sdk.toHostedError, e, phase, text);
    } finally {
      watchdog.stop();
      req.signal?.removeEventListener('abort', onUserAbort);
    }
    if (callbackError) throw callbackError.error;
    // The SDK ends the iteration quietly when its signal fires: tell the three reasons apart here.
    if (userAborted()) return this.result(model, text, 'abort', req, { requestStart, firstChunkAt, lastChunkAt }, null);
    if (watchdog.hasFired) throw timeoutError(this.config.origin, watchdog.firedAfterMs, text);
    // An HTML page (a login wall, a wrong URL) parses as an event stream without events.
    if (finish === null && events === 0 && !/event-stream/i.test(contentType ?? '')) throw notEventStreamError(this.config.origin, contentType);
    if (finish === null) throw truncatedError(this.config.origin, text);
    return this.result(model, text, finish, req, { requestStart, firstChunkAt, lastChunkAt }, usage);
  }

  private result(
    model: string,
    text: string,
    finishReason: FinishReason,
    req: GenerateRequest,
    clock: { requestStart: number; firstChunkAt: number | null; lastChunkAt: number | null },
    usage: CompletionUsage | null,
  ): RunResult {
    const end = performance.now();
    const source: TokenCountSource = usage ? 'usage' : 'estimated';
    return {
      text,
      finishReason,
      metrics: computeRunMetrics({
        context: { engine: 'hosted', model, device: this.host, dtype: null, threads: null, crossOriginIsolated: null },
        clock: { ...clock, end },
        engineClock: null,
        inputTokens: usage ? usage.prompt_tokens : estimatePromptTokens(req.messages),
        reusedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? null,
        outputTokens: usage ? visibleTokens(usage) : estimateTokens(text),
        tokenCountSource: source,
      }),
    };
  }
}
