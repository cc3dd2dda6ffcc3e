/**
 * When a streamed response's bytes reached the page. The SDK is given this `fetch`; it hands back
 * the response with its body read through a stream that notes the time of each network read, and
 * the engine stamps a content chunk at the arrival of the read that carried it — not when the
 * SDK's SSE parser (async generators, line and event decoding, JSON) yields it, which was
 * 0.3-0.9 ms later for a first chunk, page-measured on a busy 2-core machine. A bare `fetch`
 * reader stamps at the read too, so the two TTFTs compare.
 *
 * The wrapping stream pulls only when the SDK asks (high-water mark 0), so the last read is always
 * the one that completed the event the SDK just yielded; a read the SDK asks for late is stamped
 * late, never early. Failed responses are returned untouched (the SDK reads their error body).
 * It also tells the engine when the request left (`notifyOnFetch`).
 */
export interface ArrivalClock {
  /** `performance.now()` when the latest network read of the body completed; null before any. */
  last: number | null;
}

const clocks = new WeakMap<Response, ArrivalClock>();

/** The clock of a response returned by a `timedFetch`; null for any other response. */
export function arrivalOf(response: Response): ArrivalClock | null {
  return clocks.get(response) ?? null;
}

/**
 * The key, in the SDK's per-request `fetchOptions` (which the SDK spreads into its fetch's init), of
 * the function a `timedFetch` calls right after that request's `fetch()` call; the browser's fetch
 * never sees it. It is how the engine reports `onSent` at the moment the request leaves, after the
 * SDK's own microtasks (building the request, headers) and not before them.
 */
const ON_FETCH = 'slmOnFetch';
type NotifyingInit = RequestInit & { [ON_FETCH]?: () => void };

/** The SDK request options that make a `timedFetch` client call `onSent` once this request's fetch() was called. */
export function notifyOnFetch(onSent: (() => void) | undefined): { fetchOptions?: Omit<RequestInit, 'body' | 'headers' | 'method' | 'signal'> } {
  return onSent ? { fetchOptions: { [ON_FETCH]: onSent } as Omit<NotifyingInit, 'body' | 'headers' | 'method' | 'signal'> } : {};
}

export function timedFetch(inner: typeof fetch = (input, init) => globalThis.fetch(input, init)): typeof fetch {
  return async (input, init) => {
    let notify: (() => void) | undefined;
    if (init && ON_FETCH in init) {
      const { [ON_FETCH]: n, ...rest } = init as NotifyingInit;
      notify = n;
      init = rest;
    }
    const response = inner(input, init);
    notify?.();
    const res = await response;
    if (!res.ok || res.body === null) return res;
    const clock: ArrivalClock = { last: null };
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          clock.last = performance.now();
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    clocks.set(out, clock);
    return out;
  };
}
