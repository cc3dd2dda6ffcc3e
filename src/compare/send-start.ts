/**
 * Starting one send: every pane's request is started in the same tick, and the page learns when
 * all of them have left, so that it renders the send only then.
 *
 * Why (measured in the built app, scripts/bench/hosted-order.mjs; an order, not a duration): a
 * hosted request leaves in the SDK's `fetch()` call, a chain of microtasks after `generate()`.
 * React renders a click's updates in a microtask queued at the first setState, so when the new
 * turns were set in the click the order was: generate() → React render and commit → useChatFocus's
 * focus, scroll and forced layout → fetch(). All of that sat inside the hosted TTFT (the clock
 * starts at generate()), and none of it in a bare fetch's. Rendered after `sent`, the order is
 * generate() → fetch() → render: the send's UI work overlaps the request instead of preceding it.
 */

/** Starts one request; calls `onSent` when it has left the page (at most once counts). */
export type Start<T> = (onSent: () => void) => Promise<T>;

export interface Started<T> {
  /** Each request's outcome, in the order of the starts. */
  results: Promise<T>[];
  /** Resolves once every request has left or ended (resolved or rejected), whichever is first for each. */
  sent: Promise<void>;
}

/** Calls every start now, in order, before returning (a start that throws is a rejected result). */
export function startAll<T>(starts: readonly Start<T>[]): Started<T> {
  const left: Promise<void>[] = [];
  const results = starts.map((start) => {
    let onSent = () => {};
    left.push(new Promise<void>((resolve) => (onSent = resolve)));
    let result: Promise<T>;
    try {
      result = start(() => onSent());
    } catch (e) {
      result = Promise.reject(e);
    }
    // An engine that fails (or answers) before its request leaves must not hold the others' view back.
    result.then(
      () => onSent(),
      () => onSent(),
    );
    return result;
  });
  return { results, sent: Promise.all(left).then(() => undefined) };
}

/**
 * Resolves when `sent` does or, at the latest, when `deadline` does (the page's next task): an
 * engine that must first do something slow (load its SDK, ask the endpoint for its model) or that
 * never reports `onSent` does not leave the send unrendered past the task it was clicked in.
 */
export function sentOrDeadline(sent: Promise<void>, deadline: Promise<void>): Promise<'sent' | 'deadline'> {
  return Promise.race([sent.then(() => 'sent' as const), deadline.then(() => 'deadline' as const)]);
}

/** A promise resolved by the next macrotask (after every microtask of the current one). */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
