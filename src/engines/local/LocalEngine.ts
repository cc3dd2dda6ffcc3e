/**
 * The page side of the local engine: owns one model worker, speaks the typed protocol with it,
 * and implements ChatEngine. One AbortController per generate call; stop reaches the worker
 * through shared memory at once (cross-origin isolated pages) and through a message otherwise.
 */
import { computeRunMetrics, type EngineClock } from '../../metrics/timing';
import type { ChatEngine, GenerateRequest, RunResult, StreamChunk } from '../types';
import {
  isFromWorker,
  isTerminal,
  type DeviceKind,
  type EngineError,
  type FromWorker,
  type LoadRequest,
  type LoadedInfo,
  type RequestId,
  type ToWorker,
  type WarmupPlan,
  type WorkerEnvironment,
} from './protocol';
import { spawnModelWorker, type WorkerLike } from './model-worker';

export class LocalEngineError extends Error {
  constructor(readonly error: EngineError) {
    super(error.message);
    this.name = 'LocalEngineError';
  }
}

type Listener = (msg: FromWorker) => void;
interface Pending {
  listener: Listener;
  reject: (e: LocalEngineError) => void;
}

/** Load progress events, as the UI needs them. */
export type LoadEvent = Extract<FromWorker, { kind: 'plan' | 'progress' | 'file-done' | 'phase' }>;

/** What the page says when the worker died without a word (killed for memory, closed, crashed). */
export const WORKER_DIED: EngineError = {
  code: 'worker-crashed',
  message:
    'The model worker stopped (the browser ended it: out of memory, or a crash). The conversation and any partial answer are kept; load the model again to continue.',
};

/** The app's warm-up (tuned by `npm run bench`; see docs/performance.md). */
export const DEFAULT_WARMUP: WarmupPlan = { prefillPasses: 4, maxTokens: 1536, minTokens: 1024, minDecodeMs: 1000, maxMs: 6000 };

/** How often (ms) the worker may post streamed text: one display frame. */
export const FLUSH_INTERVAL_MS = 16;

export class LocalEngine implements ChatEngine {
  readonly kind = 'local' as const;
  private nextId: RequestId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private dead: EngineError | null = null;
  private loadedInfo: LoadedInfo | null = null;
  private watching = false;
  /** Called once when the worker dies or can no longer run the model (not after dispose()). */
  onCrash: ((error: EngineError) => void) | null = null;

  constructor(private readonly worker: WorkerLike = spawnModelWorker()) {
    worker.onmessage = (ev) => this.receive(ev.data);
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.crash({ code: 'worker-crashed', message: `The model worker crashed: ${ev.message || 'unknown error'}. The conversation is kept; load the model again.` });
    };
  }

  /**
   * Death without a word (the browser kills a worker that runs out of memory; no event reaches the
   * page): the worker holds a Web Lock named after itself from its first line, and the page asks
   * for the same lock once it sees the worker hold it, so the page is granted it exactly when the
   * worker is gone. Seen first, not assumed from the worker's first message: the two requests
   * reach the lock manager on different channels, and a page request that arrived first was
   * granted at once (seen: live workers reported dead on 2 of about 10 loads in the e2e tests).
   */
  private async watchLife(): Promise<void> {
    const name = this.worker.lockName;
    if (this.watching || !name || typeof navigator === 'undefined' || !navigator.locks) return;
    this.watching = true;
    for (let i = 0; i < 600 && !this.dead; i++) {
      const { held = [] } = await navigator.locks.query();
      if (held.some((l) => l.name === name)) {
        void navigator.locks.request(name, () => this.crash(WORKER_DIED));
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The worker is gone or broken: end it, fail what is pending, and tell the owner. */
  private crash(error: EngineError): void {
    if (this.dead) return;
    this.loadedInfo = null;
    this.worker.terminate();
    this.die(error);
    this.onCrash?.(error);
  }

  get label(): string {
    return this.loadedInfo?.modelId ?? 'local model';
  }

  get info(): LoadedInfo | null {
    return this.loadedInfo;
  }

  private receive(data: unknown): void {
    if (!isFromWorker(data)) return;
    void this.watchLife();
    if (data.kind === 'crashed' || (data.kind === 'error' && (data.error.code === 'worker-crashed' || data.error.code === 'device-lost'))) {
      this.crash(data.error);
      return;
    }
    const p = this.pending.get(data.id);
    if (!p) return;
    if (isTerminal(data)) this.pending.delete(data.id);
    p.listener(data);
  }

  private die(error: EngineError): void {
    this.dead = error;
    for (const p of this.pending.values()) p.reject(new LocalEngineError(error));
    this.pending.clear();
  }

  /** Sends a request and feeds every reply to `listener` until a terminal one arrives. */
  private request<T>(build: (id: RequestId) => ToWorker, onMessage: (msg: FromWorker, resolve: (v: T) => void) => void): { id: RequestId; done: Promise<T> } {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => {
      if (this.dead) {
        reject(new LocalEngineError(this.dead));
        return;
      }
      this.pending.set(id, {
        reject,
        listener: (msg) => {
          if (msg.kind === 'error') reject(new LocalEngineError(msg.error));
          else onMessage(msg, resolve);
        },
      });
      this.worker.postMessage(build(id));
    });
    return { id, done };
  }

  probe(): Promise<WorkerEnvironment> {
    return this.request<WorkerEnvironment>(
      (id) => ({ kind: 'probe', id }),
      (msg, resolve) => {
        if (msg.kind === 'probed') resolve(msg.env);
      },
    ).done;
  }

  /**
   * Readies ONNX Runtime in this worker for a load on `device` before the Load (the worker's
   * prepareRuntime): the load then starts with its files. A failure is left to that load to report.
   */
  prepare(device: DeviceKind, ortBase: string): Promise<void> {
    return this.request<void>(
      (id) => ({ kind: 'prepare', id, device, ortBase }),
      (msg, resolve) => {
        if (msg.kind === 'ack') resolve();
      },
    ).done;
  }

  load(request: LoadRequest, onEvent?: (e: LoadEvent) => void): Promise<LoadedInfo> {
    this.loadedInfo = null;
    return this.request<LoadedInfo>(
      (id) => ({ kind: 'load', id, request }),
      (msg, resolve) => {
        switch (msg.kind) {
          case 'loaded':
            this.loadedInfo = msg.info;
            resolve(msg.info);
            return;
          case 'plan':
          case 'progress':
          case 'file-done':
          case 'phase':
            onEvent?.(msg);
            return;
          default:
            return;
        }
      },
    ).done;
  }

  async generate(req: GenerateRequest): Promise<RunResult> {
    const info = this.loadedInfo;
    if (!info) throw new LocalEngineError({ code: 'not-loaded', message: 'No model is loaded. Load one first.' });
    const requestStart = performance.now();
    const flag = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated ? new SharedArrayBuffer(4) : null;
    let firstChunkAt: number | null = null;
    let lastChunkAt: number | null = null;
    let streamed = '';
    let aborted = false;
    const { id, done } = this.request<Extract<FromWorker, { kind: 'done' }>['result']>(
      (rid) => ({
        kind: 'generate',
        id: rid,
        options: { messages: req.messages, params: req.params, interruptFlag: flag, flushIntervalMs: FLUSH_INTERVAL_MS, kvReuse: req.kvReuse ?? true },
      }),
      (msg, resolve) => {
        if (msg.kind === 'tokens') {
          const at = performance.now();
          if (msg.text.length > 0) {
            firstChunkAt ??= at;
            lastChunkAt = at;
          }
          streamed += msg.text;
          const chunk: StreamChunk = { text: msg.text, tokens: msg.count, at };
          req.onChunk?.(chunk);
        } else if (msg.kind === 'done') {
          resolve(msg.result);
        }
      },
    );
    // The message to the worker is posted (synchronously, above): the request has left the page.
    if (!this.dead) req.onSent?.();
    const onAbort = () => {
      aborted = true;
      if (flag) Atomics.store(new Int32Array(flag), 0, 1);
      this.worker.postMessage({ kind: 'interrupt', id: this.nextId++, target: id });
    };
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await done;
      const end = performance.now();
      const engineClock: EngineClock = { generateStart: r.generateStart, firstTokenAt: r.firstTokenAt, lastTokenAt: r.lastTokenAt };
      return {
        text: r.text || streamed,
        finishReason: aborted ? 'abort' : r.finishReason,
        metrics: computeRunMetrics({
          context: {
            engine: 'local',
            model: info.modelId,
            device: info.device,
            dtype: info.dtype,
            threads: info.threads,
            crossOriginIsolated: info.crossOriginIsolated,
          },
          clock: { requestStart, firstChunkAt, lastChunkAt, end },
          engineClock,
          inputTokens: r.inputTokens,
          reusedInputTokens: r.reusedInputTokens,
          prefillNote: r.prefillNote,
          outputTokens: r.outputTokens,
          tokenCountSource: 'tokenizer',
          memoryPeakBytes: r.wasmHeapBytes,
        }),
        outputTokenIds: r.outputTokenIds,
        decodeStats: r.decodeStats,
        jsonComplete: r.jsonComplete,
        notice: r.contextNote,
      };
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  async unload(): Promise<void> {
    this.loadedInfo = null;
    await this.request<void>(
      (id) => ({ kind: 'unload', id }),
      (msg, resolve) => {
        if (msg.kind === 'ack') resolve();
      },
    ).done;
  }

  /** Ends the worker and everything in it (the model's memory is freed with it). */
  dispose(): void {
    this.loadedInfo = null;
    this.worker.terminate();
    this.die({ code: 'not-loaded', message: 'The engine was closed.' });
  }
}
