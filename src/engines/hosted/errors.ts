/**
 * One typed error for everything that can go wrong talking to a hosted endpoint, each with a
 * sentence the user can act on. Secrets (API keys) are scrubbed from every text that leaves this
 * module, including whatever the server wrote in its error body; the SDK's own error (which may
 * quote a key) is never attached as `cause`.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type HostedErrorCode =
  | 'unreachable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'bad_request'
  | 'server_error'
  | 'network_lost'
  | 'timeout'
  | 'malformed_stream'
  | 'truncated_stream'
  | 'key_origin_mismatch'
  | 'invalid_config'
  | 'unknown';

export interface HostedErrorInit {
  code: HostedErrorCode;
  message: string;
  status?: number;
  retryAfterMs?: number;
  /** Text received before a failure in the middle of a stream. */
  partialText?: string;
}

export class HostedError extends Error {
  readonly code: HostedErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly partialText?: string;

  constructor(init: HostedErrorInit) {
    super(init.message);
    this.name = 'HostedError';
    this.code = init.code;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.partialText !== undefined) this.partialText = init.partialText;
  }

  toJSON(): HostedErrorInit & { name: string } {
    return { name: this.name, code: this.code, message: this.message, status: this.status, retryAfterMs: this.retryAfterMs, partialText: this.partialText };
  }
}

export const isHostedError = (e: unknown): e is HostedError => e instanceof HostedError;

/** Replaces every occurrence of each secret (4+ characters) with "[redacted]". */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * Milliseconds to wait from a response's headers: `retry-after-ms` (OpenAI's), else `Retry-After`
 * as seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return Math.round(v);
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

/** Where the failure happened: before the response started, or while reading the stream. */
export type Phase = 'request' | 'stream';

export interface ErrorContext {
  /** Endpoint origin, e.g. https://api.openai.com. */
  origin: string;
  model: string;
  phase: Phase;
  secrets: readonly string[];
  /** A hint for CORS / reachability problems specific to the endpoint kind. */
  corsHint?: string;
  partialText?: string;
}

const MAX_DETAIL = 300;

/** The server's own words (from its error body), scrubbed and shortened. */
function detailOf(e: APIError, secrets: readonly string[]): string {
  const body = e.error;
  let raw = '';
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') raw = body.message;
  else if (typeof body === 'string') raw = body;
  const text = redact(raw.replace(/\s+/g, ' ').trim(), secrets);
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

function pageOrigin(): string {
  return typeof location !== 'undefined' && location.origin && location.origin !== 'null' ? location.origin : 'this page';
}

/** Maps anything the SDK (or the stream) threw to a HostedError. */
export function toHostedError(e: unknown, ctx: ErrorContext): HostedError {
  if (e instanceof HostedError) return e;
  const partial = ctx.partialText ? { partialText: ctx.partialText } : {};
  const make = (init: HostedErrorInit) => new HostedError({ ...init, message: redact(init.message, ctx.secrets), ...partial });
  const host = ctx.origin;
  const said = (d: string) => (d ? ` The server said: "${d}"` : '');

  if (e instanceof APIUserAbortError) return make({ code: 'unknown', message: 'The request was cancelled.' });
  if (e instanceof APIConnectionTimeoutError) {
    return make({ code: 'timeout', message: `${host} did not answer in time, so the request was stopped. The server may be overloaded or unreachable; try again.` });
  }
  if (e instanceof APIConnectionError || (ctx.phase === 'request' && e instanceof TypeError)) {
    if (ctx.phase === 'stream') return networkLost(host, make);
    return make({
      code: 'unreachable',
      message:
        `Could not reach ${host}. Either nothing is listening there (check the server is running and the URL is right), ` +
        `or the server does not allow requests from ${pageOrigin()}: browsers block a cross-origin answer unless the server ` +
        `allows the page's origin (CORS).${ctx.corsHint ? ` ${ctx.corsHint}` : ''}`,
    });
  }
  if (e instanceof APIError) {
    const status = e.status;
    const detail = detailOf(e, ctx.secrets);
    if (status === undefined) {
      // An error object inside the stream (`data: {"error": …}`).
      return make({ code: 'server_error', message: `${host} reported an error in the middle of the answer.${said(detail)}` });
    }
    if (status === 401) {
      return make({ code: 'unauthorized', status, message: `${host} rejected the API key (401). Check that the key is right for this endpoint and has not expired or been revoked.${said(detail)}` });
    }
    if (status === 403) {
      return make({ code: 'forbidden', status, message: `${host} refused access (403): the key works but is not allowed to use "${ctx.model}" (or this region/organization is blocked). Check the key's permissions.${said(detail)}` });
    }
    if (status === 404) {
      return make({ code: 'not_found', status, message: `${host} has no model or deployment "${ctx.model}" at this address (404). Check the model (or Azure deployment) name and the base URL, which usually ends in /v1.${said(detail)}` });
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(e.headers);
      const wait = retryAfterMs === undefined ? 'Wait a moment and try again.' : `Try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`;
      return make({ code: 'rate_limited', status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }), message: `${host} is limiting requests (429). ${wait}${said(detail)}` });
    }
    if (status === 408) return make({ code: 'timeout', status, message: `${host} timed out waiting for the request (408). Try again.${said(detail)}` });
    if (status >= 500) {
      return make({ code: 'server_error', status, message: `${host} failed with an internal error (${status}). The problem is on the server side; try again later.${said(detail)}` });
    }
    return make({ code: 'bad_request', status, message: `${host} rejected the request (${status}).${said(detail)} Check the model name and the generation settings this endpoint accepts.` });
  }
  if (e instanceof SyntaxError) {
    return make({ code: 'malformed_stream', message: `${host} sent a stream this app cannot read (an event that is not valid JSON). Check that the endpoint is OpenAI-compatible.` });
  }
  if (ctx.phase === 'stream') return networkLost(host, make);
  return make({ code: 'unknown', message: `The request to ${host} failed: ${e instanceof Error ? e.message : String(e)}` });
}

function networkLost(host: string, make: (init: HostedErrorInit) => HostedError): HostedError {
  return make({ code: 'network_lost', message: `The connection to ${host} was lost in the middle of the answer, so the text is incomplete. Check your connection and try again.` });
}

export function timeoutError(origin: string, idleMs: number, partialText: string): HostedError {
  return new HostedError({
    code: 'timeout',
    message: `${origin} sent nothing for ${Math.round(idleMs / 100) / 10} s, so the request was stopped. The server may be overloaded; try again, or raise the idle timeout.`,
    ...(partialText ? { partialText } : {}),
  });
}

export function truncatedError(origin: string, partialText: string): HostedError {
  return new HostedError({
    code: 'truncated_stream',
    message: `The stream from ${origin} ended before the answer was complete (no finish reason), so the text may be cut off. Try again.`,
    ...(partialText ? { partialText } : {}),
  });
}
