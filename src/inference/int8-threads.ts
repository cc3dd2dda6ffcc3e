/**
 * A second thread for the int8 step (int8-session.ts): the step's kernel instantiated twice on one shared
 * WebAssembly memory (tools/wasm/build.mjs's shared build), the second instance in a helper (a Web Worker in the
 * browser, a worker thread in Node) that takes half of each matrix's outputs and of the attention's (row, head) pairs.
 * Each output's sums are the ones a single thread makes (exact int32, then the same f32 steps), so two threads give
 * one thread's numbers bit for bit (tests/int8-session-node.test.ts).
 *
 * Jobs go through a small shared control block (Atomics), not messages: the step's run is synchronous (no event
 * loop turn to receive an answer in), and its jobs are short (135M shape, 2026-12-04: ~250 jobs a token in ~7 ms,
 * ~30 µs each; a 16-row block's matmul ~0.2 ms). The helper spins on the job counter for a while after each job
 * (the next one comes within microseconds inside a run, within a millisecond between tokens) and then sleeps in
 * Atomics.wait, so an idle model costs no CPU.
 *
 * Just over 300 lines, one idea: the hand-over (control block, helper loop, join with its fallback) and the split
 * of each of the six kinds of job; each split is a few lines of the same shape, kept apart so the per-token path
 * passes numbers, not closures.
 */

/**
 * What the helper needs: the shared build of the kernel, its memory, and the control block (a small buffer of its
 * own: JavaScript on either side never makes a view of the whole memory, which measureUserAgentSpecificMemory
 * would count once more).
 */
export interface Int8HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: SharedArrayBuffer;
}

/** A started helper: `ready` settles once it waits for jobs (rejects if it could not start). */
export interface Int8Helper {
  ready: Promise<void>;
  terminate(): void;
}

/** Starts a helper on the step's memory (the browser's worker and Node's thread each have one). */
export type Int8HelperSpawn = (init: Int8HelperInit) => Int8Helper;

/** Bytes of the control block: the job counter and the done counter each on a cache line of their own, then the job. */
export const CTL_BYTES = 256;
const SEQ = 0;
const DONE = 16;
const OP = 32;
const ARGS = 33;

export const OP_PROJECT = 1;
export const OP_ATTEND = 2;
export const OP_QUANTIZE = 3;
export const OP_SILU = 4;
const OP_QUIT = 5;
export const OP_ADD = 6;
export const OP_NORM = 7;

/** How long the helper spins for the next job before it sleeps (ms): longer than a token's work outside the kernels. */
const HELPER_SPIN_MS = 3;
/** How long the step spins for the helper's half before it waits in Atomics.wait (ms). */
const JOIN_SPIN_MS = 1;
/** A helper that has not finished a half within this long is taken for lost: the step computes it and goes on alone. */
export const JOIN_LIMIT_MS = 5000;

/** The kernel's exports a helper runs. */
export interface HelperKernel {
  projectRange(w: number, x16: number, wscale: number, rowsum: number, acc: number, y: number, N: number, K: number, M: number, qp: number, n0: number, n1: number): void;
  attendUnits(q: number, keys: number, values: number, out: number, scores: number, pos0: number, H: number, KVH: number, hd: number, scale: number, u0: number, u1: number): void;
  quantizeRowsRange(x: number, K: number, x16: number, qp: number, r0: number, r1: number): void;
  siluMul(g: number, u: number, i0: number, i1: number): void;
  addRange(x: number, y: number, i0: number, i1: number): void;
  rmsNormRows(x: number, w: number, y: number, n: number, eps: number, r0: number, r1: number): void;
}

/** HelperKernel's names (int8-session.ts checks them with its own). */
export const HELPER_EXPORTS = ['projectRange', 'attendUnits', 'quantizeRowsRange', 'siluMul', 'addRange', 'rmsNormRows'];

function isHelperKernel(x: WebAssembly.Exports): x is WebAssembly.Exports & HelperKernel {
  return HELPER_EXPORTS.every((k) => typeof x[k] === 'function');
}

/** The shared build instantiated on `memory`. */
export function instantiateShared(module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Exports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports;
}

/**
 * The helper's side: instantiates the kernel on the shared memory, calls `ready` (the helper's worker tells the
 * step), then runs jobs until told to quit or until its worker is ended. Blocks its thread: a helper's worker only.
 */
export function serveJobs(init: Int8HelperInit, ready: () => void): void {
  const k = instantiateShared(init.module, init.memory);
  if (!isHelperKernel(k)) throw new Error('the int8 step kernel lacks a job of the helper');
  const i32 = new Int32Array(init.ctl);
  const f32 = new Float32Array(init.ctl);
  // Read before saying ready: the step posts its first job only after that, so none is missed.
  let seen = Atomics.load(i32, SEQ);
  ready();
  for (;;) {
    let s = Atomics.load(i32, SEQ);
    if (s === seen) {
      const until = performance.now() + HELPER_SPIN_MS;
      for (let n = 1; s === seen; n++) {
        s = Atomics.load(i32, SEQ);
        if ((n & 1023) === 0 && performance.now() > until) break;
      }
      if (s === seen) {
        Atomics.wait(i32, SEQ, seen);
        continue;
      }
    }
    seen = s;
    const op = i32[OP];
    const a = (j: number) => i32[ARGS + j]!;
    if (op === OP_QUIT) return;
    if (op === OP_PROJECT) k.projectRange(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), a(9), a(10), a(11));
    else if (op === OP_ATTEND) k.attendUnits(a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7), a(8), f32[ARGS + 9]!, a(10), a(11));
    else if (op === OP_QUANTIZE) k.quantizeRowsRange(a(0), a(1), a(2), a(3), a(4), a(5));
    else if (op === OP_SILU) k.siluMul(a(0), a(1), a(2), a(3));
    else if (op === OP_ADD) k.addRange(a(0), a(1), a(2), a(3));
    else if (op === OP_NORM) k.rmsNormRows(a(0), a(1), a(2), a(3), f32[ARGS + 4]!, a(5), a(6));
    Atomics.store(i32, DONE, s);
    Atomics.notify(i32, DONE);
  }
}

/** The step's side of a ready helper: post a job, do the other half, join. */
export class SecondThread {
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private seq: number;
  /** Why the helper was dropped, once it was (the step then runs alone). */
  lost: string | null = null;

  constructor(
    ctl: SharedArrayBuffer,
    private readonly helper: Int8Helper,
  ) {
    this.i32 = new Int32Array(ctl);
    this.f32 = new Float32Array(ctl);
    this.seq = Atomics.load(this.i32, SEQ);
  }

  /** Hands the helper a job of `count` arguments (a float at `floatAt`, if any); the caller then does its own half and `join`s. */
  post(op: number, args: ArrayLike<number>, count: number, floatAt = -1): void {
    const { i32 } = this;
    i32[OP] = op;
    for (let j = 0; j < count; j++) {
      if (j === floatAt) this.f32[ARGS + j] = args[j]!;
      else i32[ARGS + j] = args[j]!;
    }
    this.seq = (this.seq + 1) | 0;
    Atomics.store(i32, SEQ, this.seq);
    Atomics.notify(i32, SEQ);
  }

  /**
   * Waits for the helper's half of the last job. False when it did not come within JOIN_LIMIT_MS: the helper is
   * ended and the caller computes that half itself (the same numbers) and runs alone from then on.
   */
  join(): boolean {
    const { i32, seq } = this;
    if (Atomics.load(i32, DONE) === seq) return true;
    const t0 = performance.now();
    for (let n = 1; Atomics.load(i32, DONE) !== seq; n++) {
      if ((n & 1023) !== 0) continue;
      const waited = performance.now() - t0;
      if (waited < JOIN_SPIN_MS) continue;
      if (waited > JOIN_LIMIT_MS) {
        this.drop(`its helper thread did not finish a job within ${JOIN_LIMIT_MS} ms`);
        return false;
      }
      const done = Atomics.load(i32, DONE);
      if (done !== seq) Atomics.wait(i32, DONE, done, 50);
    }
    return true;
  }

  /** Tells the helper to quit and ends it. */
  drop(reason: string): void {
    this.lost ??= reason;
    this.i32[OP] = OP_QUIT;
    Atomics.store(this.i32, SEQ, (this.seq + 1) | 0);
    Atomics.notify(this.i32, SEQ);
    this.helper.terminate();
  }
}

/**
 * Calls smaller than these stay on one thread: a hand-over costs about as much as a few microseconds of kernel. In
 * int8 products (N × K × M; ~10 µs on one thread), attention products (positions read × heads × head size, over a block's rows), and elements
 * (SiLU, quantizing). So a toy model's one-token runs (slm-reference: 128 × 128 to 512 × 128 matrices, 2,000 tokens
 * a second) stay on one thread — measured split, its Auto pairs drifted 0.63-1.28 — while the 135M shape's token
 * splits every matrix but k and v (576 × 192) and its prompt blocks split all.
 */
export interface SplitMinimums {
  products: number;
  attention: number;
  elements: number;
}
export const SPLIT_MIN: SplitMinimums = { products: 1 << 18, attention: 1 << 15, elements: 1 << 12 };

/**
 * The step's kernel calls that two threads share (int8-session.ts calls these): on one thread until a helper waits
 * for jobs, then half of each on the helper (outputs of a matrix, (row, head) pairs of the attention, rows to quantize
 * and to normalise, elements of SiLU and of the residual adds). A helper lost mid-job: its half done here, one thread from then on, the reason kept.
 */
export class SplitJobs {
  private second: SecondThread | null = null;
  /** A job's arguments (reused: a token allocates nothing). */
  private readonly a: number[] = new Array<number>(12).fill(0);
  private disposed = false;
  threads = 1;
  /** Why one thread where two were asked for. */
  note: string | null = null;

  /** `min`: the sizes below which a call stays on one thread (tests pass zeros to split every call). */
  constructor(
    private readonly k: HelperKernel,
    private readonly min: SplitMinimums = SPLIT_MIN,
  ) {}

  /** Starts a helper on `init`'s memory (loaded: the weights are in place); settles once it serves jobs or could not start. */
  async start(spawn: Int8HelperSpawn, init: Int8HelperInit): Promise<void> {
    let helper: Int8Helper | undefined;
    try {
      helper = spawn(init);
      await helper.ready;
    } catch (e) {
      helper?.terminate();
      this.note = `its helper thread did not start (${e instanceof Error ? e.message : String(e)})`;
      return;
    }
    if (this.disposed) return helper.terminate();
    this.second = new SecondThread(init.ctl, helper);
    this.threads = 2;
  }

  /** Ends the helper (no job runs after this). */
  dispose(): void {
    this.disposed = true;
    this.second?.drop('the session was disposed');
    this.second = null;
  }

  /** `projectRows`: with a helper, it takes the upper half of the outputs. */
  project(w: number, x16: number, wscale: number, rowsum: number, acc: number, y: number, N: number, K: number, M: number, qp: number): void {
    const { k, a, second: t } = this;
    if (!t || N < 4 || N * K * M < this.min.products) return k.projectRange(w, x16, wscale, rowsum, acc, y, N, K, M, qp, 0, N);
    const mid = (N >> 1) & ~1;
    a[0] = w; a[1] = x16; a[2] = wscale; a[3] = rowsum; a[4] = acc; a[5] = y; a[6] = N; a[7] = K; a[8] = M; a[9] = qp; a[10] = mid; a[11] = N;
    t.post(OP_PROJECT, a, 12);
    k.projectRange(w, x16, wscale, rowsum, acc, y, N, K, M, qp, 0, mid);
    if (!t.join()) this.alone(() => k.projectRange(w, x16, wscale, rowsum, acc, y, N, K, M, qp, mid, N));
  }

  /**
   * `attendUnits` of a block's M rows (row r at position pos0 + r) × H heads; with a helper, it takes the later
   * (row, head) pairs, split where the positions each reads add up to half (its own scores, `scores2`).
   */
  attend(q: number, keys: number, values: number, out: number, scores: number, scores2: number, pos0: number, M: number, H: number, KVH: number, hd: number, scale: number): void {
    const { k, a, second: t } = this;
    const units = M * H, work = H * M * (pos0 + (M + 1) / 2);
    if (!t || units < 2 || work * hd < this.min.attention) return k.attendUnits(q, keys, values, out, scores, pos0, H, KVH, hd, scale, 0, units);
    let mid = 0;
    for (let done = 0; mid < units - 1 && 2 * done < work; mid++) done += pos0 + Math.floor(mid / H) + 1;
    a[0] = q; a[1] = keys; a[2] = values; a[3] = out; a[4] = scores2; a[5] = pos0; a[6] = H; a[7] = KVH; a[8] = hd; a[9] = scale; a[10] = mid; a[11] = units;
    t.post(OP_ATTEND, a, 12, 9);
    k.attendUnits(q, keys, values, out, scores, pos0, H, KVH, hd, scale, 0, mid);
    if (!t.join()) this.alone(() => k.attendUnits(q, keys, values, out, scores2, pos0, H, KVH, hd, scale, mid, units));
  }

  /** Each of M rows of K floats quantized on its own; with a helper, it takes the later rows. */
  quantizeRows(x: number, K: number, x16: number, qp: number, M: number): void {
    const { k, a, second: t } = this;
    if (!t || M < 2 || M * K < this.min.elements) return k.quantizeRowsRange(x, K, x16, qp, 0, M);
    const mid = M >> 1;
    a[0] = x; a[1] = K; a[2] = x16; a[3] = qp; a[4] = mid; a[5] = M;
    t.post(OP_QUANTIZE, a, 6);
    k.quantizeRowsRange(x, K, x16, qp, 0, mid);
    if (!t.join()) this.alone(() => k.quantizeRowsRange(x, K, x16, qp, mid, M));
  }

  /** SiLU(gate) · up over n elements in place in g; with a helper, it takes the later half. */
  silu(g: number, u: number, n: number): void {
    const { k, a, second: t } = this;
    if (!t || n < this.min.elements) return k.siluMul(g, u, 0, n);
    const mid = (n >> 1) & ~3;
    a[0] = g; a[1] = u; a[2] = mid; a[3] = n;
    t.post(OP_SILU, a, 4);
    k.siluMul(g, u, 0, mid);
    if (!t.join()) this.alone(() => k.siluMul(g, u, mid, n));
  }

  /** x += y over n floats (the residual stream's adds); with a helper, it takes the later half. */
  add(x: number, y: number, n: number): void {
    const { k, a, second: t } = this;
    if (!t || n < this.min.elements) return k.addRange(x, y, 0, n);
    const mid = (n >> 1) & ~3;
    a[0] = x; a[1] = y; a[2] = mid; a[3] = n;
    t.post(OP_ADD, a, 4);
    k.addRange(x, y, 0, mid);
    if (!t.join()) this.alone(() => k.addRange(x, y, mid, n));
  }

  /** RMSNorm of M rows of n floats from x into y, with weights w; with a helper, it takes the later rows. */
  norm(x: number, w: number, y: number, n: number, eps: number, M: number): void {
    const { k, a, second: t } = this;
    if (!t || M < 2 || M * n < this.min.elements) return k.rmsNormRows(x, w, y, n, eps, 0, M);
    const mid = M >> 1;
    a[0] = x; a[1] = w; a[2] = y; a[3] = n; a[4] = eps; a[5] = mid; a[6] = M;
    t.post(OP_NORM, a, 7, 4);
    k.rmsNormRows(x, w, y, n, eps, 0, mid);
    if (!t.join()) this.alone(() => k.rmsNormRows(x, w, y, n, eps, mid, M));
  }

  /** The helper was lost mid-job: its half done here, one thread from now on. */
  private alone(half: () => void): void {
    half();
    this.note = this.second?.lost ?? 'its helper thread was lost';
    this.second = null;
    this.threads = 1;
  }
}
