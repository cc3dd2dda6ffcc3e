/**
 * Starts the kernel primer (primer.ts) beside a WASM load: beside a download, in a worker of its own
 * (primer.worker.ts), stopped when the model's session is about to be created (its report comes back
 * when its worker answers, after the step in flight; the worker is ended then); beside a read from
 * the app's store, in the model worker (primer.ts `startInModelWorker`). A primer that cannot run
 * (no worker in a worker, its file missing, its worker failing) is reported, never a failed load.
 *
 * Measured reason for a worker of its own (2026-12-02, 135M q8, 2 threads, first visits in fresh
 * Chromium profiles, docs/performance.md "The first answer after a first visit"): in the model worker
 * the primer's ONNX Runtime start and first step held that worker's thread for 2.5–2.9 s while the
 * download needed it (download 6.2–6.8 s against 3.6–3.8 s without a primer) and stopped after 0–1
 * steps, so V8 optimised ONNX Runtime's largest decode function during the first answer, which ran
 * at half the steady speed. Beside a read from the store it stays in the model worker: there its own
 * worker did not get a step in before the read ended (0–1 steps; 135M q4: the read 2.7–3.2 s against
 * 1.3–1.4 s).
 */
import type { Dtype } from '../../../models/dtypes';
import type { PrimerReport } from '../protocol';
import { gateNextCreate } from './external-weights';
import { ownWorkerNotRun, PRIMER_MIN_MODEL_BYTES, primerFile, startInModelWorker } from './primer';
import type { FromPrimerHelper, ToPrimerHelper } from './primer-protocol';

/** What the primer needs of a Worker (tests pass their own). */
export interface PrimerPort {
  postMessage(m: ToPrimerHelper): void;
  addEventListener(type: 'message', l: (ev: MessageEvent<FromPrimerHelper>) => void): void;
  addEventListener(type: 'error', l: (ev: ErrorEvent) => void): void;
  terminate(): void;
}

/** How long a stopped primer's worker may take to answer before it is ended without its figures (ms). */
export const PRIMER_STOP_WAIT_MS = 2000;

const ID = 1;

/** A primer as the load sees it. */
export interface Primer {
  /** Its report, once it has ended. */
  readonly ended: Promise<PrimerReport>;
  /** Asks it to stop; its report. */
  stop(): Promise<PrimerReport>;
}

export class PrimerHelper implements Primer {
  private readonly t0 = performance.now();
  private answered: (r: PrimerReport) => void = () => undefined;
  private done = false;
  private stopping = false;
  /** Its report, once its worker has answered (or failed, or was ended without an answer). */
  readonly ended: Promise<PrimerReport>;

  constructor(private readonly port: PrimerPort, modelUrl: string, ortBase: string) {
    this.ended = new Promise((resolve) => (this.answered = resolve));
    port.addEventListener('message', (ev) => {
      if (ev.data.kind === 'ended' && ev.data.id === ID) this.end({ ...ev.data.report, ms: performance.now() - this.t0 });
    });
    port.addEventListener('error', (ev) => this.end(ownWorkerNotRun(performance.now() - this.t0, `its worker failed: ${ev.message || 'it could not start'}`)));
    port.postMessage({ kind: 'start', id: ID, modelUrl, ortBase });
  }

  /** Asks it to stop (after the step in flight); its report, or after PRIMER_STOP_WAIT_MS without an answer, a report saying so. */
  stop(): Promise<PrimerReport> {
    // Asked once: the model's session creation (the gate) and the load after it both stop it.
    if (!this.done && !this.stopping) {
      this.stopping = true;
      this.port.postMessage({ kind: 'stop', id: ID });
      const timer = setTimeout(() => this.end(ownWorkerNotRun(performance.now() - this.t0, `its worker did not answer within ${PRIMER_STOP_WAIT_MS} ms of being stopped`)), PRIMER_STOP_WAIT_MS);
      void this.ended.then(() => clearTimeout(timer));
    }
    return this.ended;
  }

  private end(r: PrimerReport): void {
    if (this.done) return;
    this.done = true;
    this.port.terminate();
    this.answered(r);
  }
}

function spawn(): PrimerPort | null {
  if (typeof Worker === 'undefined') return null;
  try {
    return new Worker(new URL('./primer.worker.ts', import.meta.url), { type: 'module', name: 'slm-kernel-primer' }) as PrimerPort;
  } catch {
    return null;
  }
}

/**
 * Starts priming for a WASM load of `dtype` whose files total `modelBytes`, `networkBytes` of them
 * still to download, with the embedded slm-pocket under `appBase`; null where nothing is primed (a
 * small model, or a dtype with no matching primer). The model's session creation stops it: a primer
 * in its own worker at once (without waiting for its answer), one in the model worker once settled,
 * at most PRIMER_GRACE_MS later.
 */
export async function startPrimer(dtype: Dtype, rewriteTo: 'fp32' | 'int8' | null, modelBytes: number, networkBytes: number, appBase: string, ortBase: string, open: () => PrimerPort | null = spawn): Promise<Primer | null> {
  const file = primerFile(dtype, rewriteTo);
  if (!file || modelBytes < PRIMER_MIN_MODEL_BYTES) return null;
  if (networkBytes < PRIMER_MIN_MODEL_BYTES) return startInModelWorker(file, appBase);
  const port = open();
  if (!port) {
    const r = Promise.resolve(ownWorkerNotRun(0, 'this browser cannot start a worker from a worker'));
    return { ended: r, stop: () => r };
  }
  const helper = new PrimerHelper(port, new URL(`models/slm-pocket/onnx/${file}`, appBase).href, ortBase);
  gateNextCreate(async () => void helper.stop());
  return helper;
}
