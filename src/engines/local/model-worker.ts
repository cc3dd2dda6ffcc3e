/**
 * How the page starts a model worker: a module worker named after the Web Lock it holds for its
 * whole life, so the page can tell when the browser ended it without a word (LocalEngine.watchLife).
 */
import type { ToWorker } from './protocol';

export interface WorkerLike {
  postMessage(msg: ToWorker): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  /** A Web Lock the worker holds for its whole life (its name is the worker's name); see watchLife. */
  lockName?: string;
}

/** Prefix of the model worker's name; the rest names the Web Lock it holds while alive. */
export const WORKER_LOCK_PREFIX = 'slm-model:';

export function spawnModelWorker(): WorkerLike {
  const lockName = `${WORKER_LOCK_PREFIX}${crypto.randomUUID()}`;
  const w: WorkerLike = new Worker(new URL('./worker/model.worker.ts', import.meta.url), { type: 'module', name: lockName });
  w.lockName = lockName;
  return w;
}
