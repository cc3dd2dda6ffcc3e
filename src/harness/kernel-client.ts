/**
 * The harness page's side of the kernel worker (kernel.worker.ts): one worker, one session, asked
 * to time runs as often as the bench's rounds need. A worker of its own per session: ONNX Runtime
 * Web fixes its thread pool per worker.
 */
import type { FromKernelWorker, GraphKind, ToKernelWorker } from './kernel.worker';

/** A request without its id (the client numbers them). */
type Ask = ToKernelWorker extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

export class KernelClient {
  private readonly worker = new Worker(new URL('./kernel.worker.ts', import.meta.url), { type: 'module', name: 'slm-kernels' });
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: FromKernelWorker) => void; reject: (e: Error) => void }>();

  constructor() {
    this.worker.onmessage = (ev: MessageEvent<FromKernelWorker>) => {
      const p = this.pending.get(ev.data.id);
      if (!p) return;
      this.pending.delete(ev.data.id);
      if (ev.data.kind === 'failed') p.reject(new Error(ev.data.error));
      else p.resolve(ev.data);
    };
    // A worker that fails fails everything asked of it.
    this.worker.onerror = (ev) => this.failAll(new Error(ev.message || 'the kernel worker failed'));
  }

  /** Creates the session on `url`'s graph (`graph`: what it is) at `threads` threads: its creation time (ms), and whether its runs write into reused output buffers. */
  async open(url: string, threads: number, ortBase: string, graph: GraphKind): Promise<{ sessionMs: number; pooled: boolean }> {
    const r = await this.ask({ kind: 'open', url, threads, ortBase, graph });
    if (r.kind !== 'opened') throw new Error(`the kernel worker answered ${r.kind} to open`);
    return { sessionMs: r.sessionMs, pooled: r.pooled };
  }

  /** Times `runs` runs of `rows` rows after the warm-up: each run's ms. */
  async run(warmups: number, runs: number, rows: number, warmupMs: number): Promise<number[]> {
    const r = await this.ask({ kind: 'run', warmups, runs, rows, warmupMs });
    if (r.kind !== 'ran') throw new Error(`the kernel worker answered ${r.kind} to run`);
    return r.ms;
  }

  close(): void {
    this.worker.terminate();
    this.failAll(new Error('the kernel worker was closed'));
  }

  private ask(m: Ask): Promise<FromKernelWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ToKernelWorker = { ...m, id };
      this.worker.postMessage(request);
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
