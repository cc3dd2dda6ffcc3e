/**
 * The q4 rewrite's helpers: module workers that fill part of the rewrite's new weights while the
 * model worker fills its own part (src/inference/q4-rewrite.ts `rewriteQ4Split`), so the rewrite
 * uses the cores ONNX Runtime's thread pool leaves idle at that moment (its session does not exist
 * yet, and the kernel primer has stopped). Each helper's group is mounted as its own weights file,
 * moved back without a copy; what a helper gets are copies of its nodes' 4-bit bytes, scales and
 * zero points (about a quarter of the new weights' bytes for int8, a sixteenth for fp32), since
 * the model's file stays with the model worker. They are ended as soon as the weights are filled,
 * before ONNX Runtime's heap grows with the session, so those copies are not part of the load's
 * peak (src/models/memory.ts). A helper that cannot start or fails leaves its group to the model
 * worker: slower, never a failed load.
 *
 * Measured reason (2026-12-01, 2-core machine): the rewrite took 0.47–0.55 s of a 135M-shape q4
 * warm load (fp32 target) and 1.33–1.45 s of the 0.5B shape's (int8), on one core while the other
 * idled; results of the split: docs/performance.md.
 */
import type { FilledGroup, Q4Weights, RewriteTo } from '../../../inference/q4-dequant';
import { fillGroup } from '../../../inference/q4-dequant';
import type { WeightFill } from '../../../inference/q4-rewrite';
import { errorText } from '../../../lib/errors';
import type { FromRewriteHelper, ToRewriteHelper } from './rewrite-protocol';

/** Never more helpers than this (the split's gain shrinks as the model worker's copies grow). */
export const MAX_REWRITE_HELPERS = 3;

/** Helpers for a device with `cores` logical cores: one fewer than the cores (the model worker fills a group too), at most MAX_REWRITE_HELPERS. */
export function rewriteHelperCount(cores: number): number {
  return Math.max(0, Math.min(MAX_REWRITE_HELPERS, Math.floor(cores) - 1));
}

/** What the pool needs of a Worker (tests pass their own). */
export interface HelperPort {
  postMessage(m: ToRewriteHelper, transfer: Transferable[]): void;
  addEventListener(type: 'message', l: (ev: MessageEvent<FromRewriteHelper>) => void): void;
  addEventListener(type: 'error', l: (ev: ErrorEvent) => void): void;
  terminate(): void;
}

/** A node's weights as a helper gets them: its own copies (the model's file is not shared), the 4-bit bytes present. */
type HelperJob = Q4Weights & { b: { data: Uint8Array } };

function toJob(p: Q4Weights): HelperJob {
  // A planned node always has its bytes (q4-plan.ts); without them the group is filled here instead.
  if (!p.b.data) throw new Error('a 4-bit weight without its bytes');
  return { K: p.K, N: p.N, blockSize: p.blockSize, scales: p.scales.slice(), zeroPoints: p.zeroPoints?.slice() ?? null, b: { data: p.b.data.slice() } };
}

function transferables(jobs: HelperJob[]): Transferable[] {
  return jobs.flatMap((j) => [j.scales.buffer, j.b.data.buffer, ...(j.zeroPoints ? [j.zeroPoints.buffer] : [])]);
}

export class RewriteHelpers {
  private readonly ports: HelperPort[];
  private readonly broken = new Map<HelperPort, string>();
  private readonly pending = new Map<number, { resolve: (g: FilledGroup) => void; reject: (e: Error) => void; port: HelperPort }>();
  private nextId = 1;
  /** Why a helper's group was filled here instead (the first failure), or null. */
  failure: string | null = null;

  constructor(ports: HelperPort[]) {
    this.ports = ports;
    for (const port of ports) {
      port.addEventListener('message', (ev) => this.onMessage(ev.data));
      port.addEventListener('error', (ev) => this.fail(port, ev.message || 'the helper could not start'));
    }
  }

  /** Groups a rewrite is split into: one for this worker, one for each helper. */
  get groups(): number {
    return this.ports.length + 1;
  }

  /** Group 0 here, the others on the helpers; a group whose helper failed is filled here after. */
  readonly fill: WeightFill = async (groups: Q4Weights[][], to: RewriteTo) => {
    const sent = groups.slice(1).map((g, i) => this.send(this.ports[i % this.ports.length]!, g, to));
    const own = fillGroup(groups[0] ?? [], to);
    const rest = await Promise.all(
      sent.map((p, i) =>
        p.catch((e: unknown) => {
          this.failure ??= errorText(e);
          return fillGroup(groups[i + 1]!, to);
        }),
      ),
    );
    return [own, ...rest];
  };

  /** Ends the helpers (a load ends them once its rewrite is done, or when it fails first). */
  close(): void {
    for (const p of this.ports) p.terminate();
    for (const [id, r] of this.pending) {
      this.pending.delete(id);
      r.reject(new Error('the helpers were closed'));
    }
  }

  private send(port: HelperPort, jobs: Q4Weights[], to: RewriteTo): Promise<FilledGroup> {
    const broken = this.broken.get(port);
    if (broken) return Promise.reject(new Error(broken));
    const id = this.nextId++;
    return new Promise<FilledGroup>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, port });
      try {
        const copies = jobs.map(toJob);
        port.postMessage({ kind: 'fill', id, to, jobs: copies }, transferables(copies));
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private onMessage(m: FromRewriteHelper): void {
    const r = this.pending.get(m.id);
    if (!r) return;
    this.pending.delete(m.id);
    switch (m.kind) {
      case 'filled':
        r.resolve({ data: m.data, scales: m.scales });
        break;
      case 'failed':
        r.reject(new Error(m.error));
        break;
    }
  }

  private fail(port: HelperPort, why: string): void {
    this.broken.set(port, why);
    for (const [id, r] of this.pending) {
      if (r.port !== port) continue;
      this.pending.delete(id);
      r.reject(new Error(why));
    }
  }
}

/** Helpers for this device (none on one core), started now so that they are up when the rewrite begins. */
export function startRewriteHelpers(cores = navigator.hardwareConcurrency || 1): RewriteHelpers | null {
  const n = rewriteHelperCount(cores);
  if (n === 0 || typeof Worker === 'undefined') return null;
  const ports: HelperPort[] = [];
  try {
    for (let i = 0; i < n; i++) ports.push(new Worker(new URL('./rewrite.worker.ts', import.meta.url), { type: 'module', name: `slm-q4-rewrite-${i + 1}` }) as HelperPort);
  } catch {
    // A browser without workers in workers: the model worker fills every group itself.
    for (const p of ports) p.terminate();
    return null;
  }
  return new RewriteHelpers(ports);
}
