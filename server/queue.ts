/**
 * First-in, first-out queue in front of the single model: one generation at a time, the others
 * wait in arrival order. A bounded number may wait; beyond that `QueueFullError` (→ 429). A waiting
 * request whose client goes away leaves the queue without ever running.
 */

export class QueueFullError extends Error {
  constructor(readonly retryAfterS: number) {
    super('queue full');
    this.name = 'QueueFullError';
  }
}

export class QueueAbortError extends Error {
  constructor() {
    super('aborted while queued');
    this.name = 'QueueAbortError';
  }
}

interface Waiter {
  start: () => void;
  cancel: () => void;
}

export class FifoQueue {
  private readonly waiters: Waiter[] = [];
  private running = false;
  /** Running average duration of a job (ms), for Retry-After. */
  private avgMs = 1000;

  /** @param limit how many requests may wait while one runs. */
  constructor(private readonly limit: number) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Seconds a client should wait before retrying, from the work ahead of it. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.waiters.length + 1) * this.avgMs) / 1000));
  }

  /**
   * Runs `job` when its turn comes. Throws QueueFullError at once when the queue is full, and
   * QueueAbortError when `signal` fires while it waits.
   */
  async run<T>(job: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw new QueueAbortError();
    if (this.running) {
      if (this.waiters.length >= this.limit) throw new QueueFullError(this.retryAfterSeconds());
      // The finishing job hands `running` straight to the next waiter, so nobody can cut in.
      await this.wait(signal);
    } else {
      this.running = true;
    }
    const t0 = performance.now();
    try {
      return await job();
    } finally {
      this.avgMs = this.avgMs * 0.7 + (performance.now() - t0) * 0.3;
      const next = this.waiters.shift();
      if (next) next.start();
      else this.running = false;
    }
  }

  private wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => waiter.cancel();
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        cancel: () => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(new QueueAbortError());
        },
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
