/**
 * Maps whatever the `openai` SDK (or the stream it parses) threw to a HostedError. It needs the
 * SDK's error classes, so it is loaded together with the SDK (see sdk.ts), not with the page.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { HostedError, parseRetryAfter, redact, type ErrorContext, type HostedErrorInit } from './errors';
import { errorText } from '../../lib/errors';

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
  return make({ code: 'unknown', message: `The request to ${host} failed: ${errorText(e)}` });
}

function networkLost(host: string, make: (init: HostedErrorInit) => HostedError): HostedError {
  return make({ code: 'network_lost', message: `The connection to ${host} was lost in the middle of the answer, so the text is incomplete. Check your connection and try again.` });
}

