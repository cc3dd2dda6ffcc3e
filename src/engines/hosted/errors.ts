/**
 * One typed error for everything that can go wrong talking to a hosted endpoint, each with a
 * sentence the user can act on. Secrets (API keys) are scrubbed from every text that leaves this
 * module, including whatever the server wrote in its error body; the SDK's own error (which may
 * quote a key) is never attached as `cause`.
 *
 * This module holds no SDK code (the main bundle loads it); mapping the SDK's own error classes
 * lives in sdk-errors.ts, which is loaded with the SDK when a hosted request is first made.
 */
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
  | 'not_event_stream'
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

/** A 200 answer that is not an event stream (an HTML login wall, a wrong URL that serves a page). */
export function notEventStreamError(origin: string, contentType: string | null): HostedError {
  return new HostedError({
    code: 'not_event_stream',
    message: `${origin} did not answer with an OpenAI-style event stream (it sent ${contentType ? `"${contentType.split(';')[0]}"` : 'no content type'}), so there is no answer to show. Check the URL: it should be the API's base URL (often ending in /v1), not a web page.`,
  });
}
