/**
 * The page side of the scoring sandbox, written once over a minimal worker port so the browser's
 * Web Worker (browser.ts) and Node's worker_threads (scripts/eval-sandbox/node.ts) behave the same:
 * requests go one at a time; each has `limitMs` from the moment it is posted (a worker's start-up
 * is not counted: it has its own, longer limit); on timeout the worker is terminated and the next
 * request starts a fresh one.
 */
import { DEFAULT_SANDBOX_LIMIT_MS, type SandboxMessage, type SandboxOutcome, type SandboxRequest, type ScoringSandbox } from './protocol';
import { errorText } from '../../lib/errors';

export interface SandboxPort {
  post(req: SandboxRequest): void;
  terminate(): void;
}

export interface SandboxPortHandlers {
  onMessage(m: SandboxMessage): void;
  /** The worker failed to load or died. */
  onError(message: string): void;
}

/** Starts one worker and wires its events to `handlers`. */
export type StartSandboxPort = (handlers: SandboxPortHandlers) => SandboxPort;

export interface SandboxOptions {
  /** Per request (default DEFAULT_SANDBOX_LIMIT_MS). */
  limitMs?: number;
  /** For a worker to load and say it is ready (default 20 s: a cold start on a busy machine). */
  startTimeoutMs?: number;
}

type Answer = SandboxMessage | { kind: 'timeout' };
type RequestBody = SandboxRequest extends infer R ? (R extends SandboxRequest ? Omit<R, 'id'> : never) : never;

export function createWorkerSandbox(start: StartSandboxPort, opts: SandboxOptions = {}): ScoringSandbox {
  const limitMs = opts.limitMs ?? DEFAULT_SANDBOX_LIMIT_MS;
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  let port: SandboxPort | null = null;
  let ready: Promise<void> | null = null;
  /** Bumped on every kill: events from a terminated worker are ignored. */
  let generation = 0;
  let pending: { id: number; settle: (a: Answer) => void } | null = null;
  let nextId = 1;
  let chain: Promise<unknown> = Promise.resolve();

  const kill = (why: string) => {
    generation++;
    port?.terminate();
    port = null;
    ready = null;
    const p = pending;
    pending = null;
    p?.settle({ kind: 'error', id: p.id, message: why });
  };

  const startWorker = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const gen = ++generation;
      let started = false;
      const timer = setTimeout(() => {
        if (gen !== generation) return;
        kill('the scoring worker did not start');
        reject(new Error(`the scoring worker did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      port = start({
        onMessage: (m) => {
          if (gen !== generation) return;
          if (m.kind === 'ready') {
            started = true;
            clearTimeout(timer);
            resolve();
            return;
          }
          const p = pending;
          if (p && m.id === p.id) {
            pending = null;
            p.settle(m);
          }
        },
        onError: (message) => {
          if (gen !== generation) return;
          clearTimeout(timer);
          kill(`the scoring worker failed: ${message}`);
          if (!started) reject(new Error(`the scoring worker failed to start: ${message}`));
        },
      });
    });

  const request = (body: RequestBody): Promise<Answer> => {
    const run = async (): Promise<Answer> => {
      try {
        ready ??= startWorker();
        await ready;
      } catch (e) {
        return { kind: 'error', id: 0, message: errorText(e) };
      }
      const live = port;
      if (!live) return { kind: 'error', id: 0, message: 'the scoring worker is gone' };
      const id = nextId++;
      return new Promise<Answer>((resolve) => {
        const timer = setTimeout(() => {
          if (pending?.id !== id) return;
          pending = null;
          kill('timed out');
          resolve({ kind: 'timeout' });
        }, limitMs);
        pending = {
          id,
          settle: (a) => {
            clearTimeout(timer);
            resolve(a);
          },
        };
        try {
          live.post({ ...body, id } as SandboxRequest);
        } catch (e) {
          // A value the structured clone cannot copy (e.g. nested deeper than its stack).
          pending = null;
          clearTimeout(timer);
          resolve({ kind: 'error', id, message: errorText(e) });
        }
      });
    };
    const p = chain.then(run, run);
    chain = p;
    return p;
  };

  const outcome = <T>(a: Answer, pick: (m: SandboxMessage) => { ok: true; value: T } | null): SandboxOutcome<T> => {
    if (a.kind === 'timeout') return { status: 'timeout', limitMs };
    if (a.kind === 'error') return { status: 'error', message: a.message };
    const v = pick(a);
    return v ? { status: 'done', value: v.value } : { status: 'error', message: `unexpected answer "${a.kind}" from the scoring worker` };
  };

  return {
    async matchRegex(pattern, flags, text) {
      const a = await request({ kind: 'regex', pattern, flags, text });
      return outcome(a, (m) => (m.kind === 'regex' ? { ok: true, value: m.matched } : null));
    },
    async validateJsonSchema(schema, value) {
      const a = await request({ kind: 'json-schema', schema, value });
      return outcome(a, (m) => (m.kind === 'json-schema' ? { ok: true, value: m.error } : null));
    },
    dispose() {
      kill('the scoring sandbox was closed');
    },
  };
}
