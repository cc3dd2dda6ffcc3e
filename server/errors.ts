/**
 * Errors in the OpenAI format: `{ error: { message, type, param, code } }` with the matching HTTP
 * status. Every failure the server reports goes through `ApiError`, so clients (the official SDK
 * included) see the same shape whatever went wrong.
 */

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const INVALID = 'invalid_request_error';

export const apiErrors = {
  invalidJson: () => new ApiError(400, 'We could not parse the JSON body of your request. Send a valid JSON object.', INVALID, null, 'invalid_json'),
  badRequest: (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, message, INVALID, param, code),
  unsupported: (param: string, message: string) => new ApiError(400, message, INVALID, param, 'unsupported_parameter'),
  unauthorized: () =>
    new ApiError(401, 'Incorrect or missing API key. Send it as "Authorization: Bearer <key>" or as an "api-key" header.', INVALID, null, 'invalid_api_key'),
  originNotAllowed: (origin: string) =>
    new ApiError(403, `Requests from the origin ${origin} are not allowed. Start the server with --allow-origin ${origin}.`, INVALID, null, 'origin_not_allowed'),
  modelNotFound: (model: string, served: string) =>
    new ApiError(404, `The model '${model}' does not exist on this server. It serves '${served}' (see GET /v1/models).`, INVALID, 'model', 'model_not_found'),
  routeNotFound: (method: string, path: string) => new ApiError(404, `Unknown route: ${method} ${path}.`, INVALID, null, 'unknown_url'),
  notFound: (message: string) => new ApiError(404, message, INVALID, null, 'not_found'),
  methodNotAllowed: (method: string, path: string, allow: readonly string[]) =>
    new ApiError(405, `Method ${method} is not allowed on ${path}; use ${allow.join(' or ')}.`, INVALID, null, 'method_not_allowed', { Allow: allow.join(', ') }),
  tooLarge: (limit: number) =>
    new ApiError(413, `The request body is larger than the limit of ${limit} bytes.`, INVALID, null, 'request_too_large', { Connection: 'close' }),
  queueFull: (retryAfterS: number) =>
    new ApiError(429, `The server is busy: the request queue is full. Retry after ${retryAfterS} s.`, 'rate_limit_exceeded', null, 'queue_full', {
      'Retry-After': String(retryAfterS),
    }),
  internal: (message = 'The server had an error while generating. Try again.') => new ApiError(500, message, 'server_error', null, 'internal_error'),
  unavailable: (message: string) => new ApiError(503, message, 'server_error', null, 'service_unavailable'),
};

/** Any thrown value as an ApiError (unknown failures become a 500 without internal details). */
export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : apiErrors.internal();
}
