/**
 * The scoring sandbox: the parts of scoring that run a stranger's pattern or schema against a
 * model's output, and so can take unbounded time (a regex with catastrophic backtracking such as
 * `^(a+)+$`, a JSON Schema's `pattern`, `uniqueItems` on a long array, recursive `$ref`s). They run
 * in a worker with a time limit per request; on timeout the worker is terminated and the next
 * request starts a fresh one. The browser implementation (browser.ts, a Web Worker) is what the app
 * and the headless runner use; Node-side runs and tests use scripts/eval-sandbox/node.ts
 * (worker_threads). Both run core.ts and are injected into the scorer, never held globally.
 */

/** Time one request may take before the worker is terminated (ms). A real scorer takes < 10 ms. */
export const DEFAULT_SANDBOX_LIMIT_MS = 1_000;

/** Page → worker: one request, answered once by `id`. */
export type SandboxRequest =
  | { kind: 'regex'; id: number; pattern: string; flags: string; text: string }
  | { kind: 'json-schema'; id: number; schema: Record<string, unknown>; value: unknown };

/** Worker → page: `ready` once on start, then one answer per request. */
export type SandboxMessage =
  | { kind: 'ready' }
  | { kind: 'regex'; id: number; matched: boolean }
  | { kind: 'json-schema'; id: number; error: string | null }
  | { kind: 'error'; id: number; message: string };

/** What a request came to: its answer, the time limit hit, or an error the worker reported. */
export type SandboxOutcome<T> = { status: 'done'; value: T } | { status: 'timeout'; limitMs: number } | { status: 'error'; message: string };

export interface ScoringSandbox {
  /** Whether `pattern` (compiled as the regex scorer does) matches `text`. */
  matchRegex(pattern: string, flags: string, text: string): Promise<SandboxOutcome<boolean>>;
  /** Null when `value` matches `schema`, else why not ("/age: …"). */
  validateJsonSchema(schema: Record<string, unknown>, value: unknown): Promise<SandboxOutcome<string | null>>;
  /** Ends the worker; later requests start a new one. */
  dispose(): void;
}
