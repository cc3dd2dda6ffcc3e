/**
 * An int8 step of our own, behind the session interface the KV decode loop already drives (kv-decoder.ts
 * `OrtSessionLike`): every run, prompts too, goes through WebAssembly kernels (tools/wasm/int8-step.ts); the ONNX
 * Runtime session it wraps lends only its names and metadata. So the loop, sampling, stops, grammars and the KV
 * cache across turns (kv-cache.ts) are unchanged.
 *
 * Why (measured, docs/performance.md "An int8 decode step of our own"): ONNX Runtime Web's WASM QGEMM repacks
 * every weight on every run, so a q8 model decoded at ~0.45 of native speed; on the same bytes and instruction
 * set the step's int8 matmuls run 3.6-4.9x faster in `gemvS16`.
 *
 * Exactness: every position computes what the export's graph computes at one token (ONNX's DynamicQuantizeLinear
 * → MatMulInteger → Cast → Mul, RMSNorm, rotary, grouped-query attention, SiLU) in f32; the integer products are
 * exact, only the order of some f32 sums differs from ONNX Runtime's, so greedy ids are those of ONNX Runtime fed
 * a token a run up to a near tie (tests/int8-session-node.test.ts). A prompt runs row by row, each row with its
 * own activation scale, where ONNX Runtime's prompt run scales all its rows together: so a prompt split in two (a
 * reused KV prefix, then the new tokens) gives what the whole prompt gives, and KV reuse is exact on the step for
 * q8 too (kv-cache.ts). The price, measured (135M shape q8, ~280-token prompt, paired against ONNX Runtime Web at
 * 2 threads, 2026-12-04): on one thread the step prefilled at 230 tok/s against ONNX Runtime Web's 321 (0.72); row
 * at a time, without blocks, 151 against 295 (0.51). Two threads (int8-threads.ts: a helper on the same shared
 * memory takes half of each kernel call, the same numbers) made it 1.26x ONNX Runtime Web's (302 against 242) and
 * 1.58x its own one thread; decode 1.17x. Then (int8-kernel.ts) relaxed SIMD's int8 dot where exact, 1.46x on the
 * same prompt, and attention four keys and four exps at a time, 1.5x more.
 *
 * The KV state lives in the kernel's memory (int8-kv.ts); the `present.*` a run returns are views of it, which
 * the loop copies only where it keeps a state (kv-decoder.ts: `outputsReused`).
 *
 * Over 300 lines, one idea: the step's run (its kernel on a memory of its own or a shared one, the layout of that
 * memory, the weights' load, a block of rows through the layers); the KV state, the weights' reading and the split
 * between two threads already live in int8-kv.ts, int8-llama.ts and int8-threads.ts.
 */
import type { Int8Llama, Int8LlamaLayer, Int8Matrix } from './int8-llama';
import { Int8KvState } from './int8-kv';
import { chooseBuild, instantiateOwn, sharedModule, type Int8KernelBuild } from './int8-kernel';
import { CTL_BYTES, HELPER_EXPORTS, instantiateShared, SplitJobs, type HelperKernel, type Int8HelperSpawn, type SplitMinimums } from './int8-threads';
import type { MakeTensor, OrtSessionLike, OrtTensorLike, ValueMetadata } from './kv-decoder';


/** The kernel's exports (tools/wasm/int8-step.ts): the ones two threads share (int8-threads.ts HelperKernel), and these. */
export interface Int8StepKernel extends HelperKernel {
  memory: WebAssembly.Memory;
  quantizeTo(x: number, K: number, x16: number, qp: number): void;
  projectRows(w: number, x16: number, wscale: number, rowsum: number, acc: number, y: number, N: number, K: number, M: number, qp: number): void;
  transpose(src: number, dst: number, K: number, N: number, k0: number, kc: number): void;
  rowSums(w: number, rowsum: number, N: number, K: number): void;
  rmsNorm(x: number, w: number, y: number, n: number, eps: number): void;
  ropeRows(x: number, stride: number, heads: number, hd: number, cos: number, sin: number, M: number): void;
  attend(q: number, keys: number, values: number, out: number, scores: number, pos: number, H: number, KVH: number, hd: number, scale: number): void;
  /** 1 where the relaxed build's int8 dot is exact here (int8-kernel.ts); 0 in the plain build. */
  dotExact(): number;
}

const EXPORTS = ['quantizeTo', 'projectRows', 'transpose', 'rowSums', 'rmsNorm', 'ropeRows', 'attend', 'dotExact', ...HELPER_EXPORTS];

function isKernel(x: WebAssembly.Exports): x is WebAssembly.Exports & Int8StepKernel {
  return x['memory'] instanceof WebAssembly.Memory && EXPORTS.every((k) => typeof x[k] === 'function');
}

/** The kernel (`build`, int8-kernel.ts), a fresh instance on a memory of its own. */
function instantiate(build: Int8KernelBuild): Int8StepKernel {
  const exports = instantiateOwn(build);
  if (!isKernel(exports)) throw new Error('the int8 step kernel lacks an export');
  return exports;
}

/**
 * The shared build on a new shared memory, for a second thread; or why not (no SharedArrayBuffer: a page that is
 * not cross-origin isolated; a device that cannot reserve the memory).
 */
function instantiateForThreads(build: Int8KernelBuild): { kernel: Int8StepKernel; module: WebAssembly.Module } | { reason: string } {
  if (typeof SharedArrayBuffer === 'undefined') return { reason: 'no shared memory here (the page is not cross-origin isolated)' };
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  } catch (e) {
    return { reason: `a shared memory could not be made (${e instanceof Error ? e.message : String(e)})` };
  }
  const module = sharedModule(build);
  const kernel = { ...instantiateShared(module, memory), memory };
  if (!isKernel(kernel)) throw new Error('the int8 step kernel lacks an export');
  return { kernel, module };
}


/** Where the step's memory begins (the module keeps nothing of its own above its first page). */
const BASE = 65536;
/** Rows of a weight passed through the staging area at a time (a load's transpose): at most this many bytes. */
const STAGING = 4 << 20;
/**
 * A prompt's rows run through the weights this many at a time (`gemmS16`: each weight load serves four rows).
 * Measured (135M shape q8, paired against ONNX Runtime Web): 16 rows a block prefilled 1.5x faster than one
 * (230 against 151 tok/s); the plain kernel's matmuls are then compute-bound (~30 G int8 products a second on one
 * thread). With relaxed SIMD's int8 dot (int8-kernel.ts: ~94 G on weights in cache) the weights' trips from memory
 * showed: a 1536 × 576 matrix over 16 rows took 0.32 ms from memory against 0.15 in cache (Chromium, one thread,
 * 2026-12-04), and the 135M prompt (272 tokens, two threads) prefilled at 516-575 tok/s in blocks of 16, 638 of 32,
 * 649-669 of 64 and 643-658 of 128.
 */
const BLOCK = 64;
/** Positions the KV state holds at first; it doubles as a conversation grows. */
const FIRST_CAPACITY = 256;

const align = (n: number) => Math.ceil(n / 16) * 16;

/** A matrix in the kernel's memory: int8 [N][K], then f32 scales and int32 row sums [N]. */
interface Placed {
  K: number;
  N: number;
  w: number;
  scale: number;
  rowsum: number;
}

export class Int8Session implements OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly ValueMetadata[];
  readonly outputMetadata?: readonly ValueMetadata[];
  /** The KV loop must copy a state it keeps: these outputs change under later runs. */
  readonly outputsReused = true;
  /** Runs of one token / of several (a prompt) the step took. */
  readonly counts = { steps: 0, prompts: 0 };

  private readonly k: Int8StepKernel;
  private readonly d: Int8Llama['dims'];
  private readonly embed: Float32Array;
  private readonly layers: { ln1: number; ln2: number; q: Placed; k: Placed; v: Placed; o: Placed; gate: Placed; up: Placed; down: Placed; bias: Int8LlamaLayer['bias'] }[];
  private readonly norm: number;
  private readonly head: Placed;
  private readonly invFreq: Float32Array;
  private readonly logits: Float32Array;
  private mem = new Float32Array(0);
  // Scratch in the kernel's memory, BLOCK rows each: the residual stream, the normed rows, their quantized form
  // with each row's scale and zero point, the int32 sums, each projection's output, the attention's output.
  private readonly at: Record<'x' | 't' | 'x16' | 'qp' | 'acc' | 'q' | 'att' | 'o' | 'g' | 'u' | 'd' | 'logits' | 'cos' | 'sin', number>;
  private readonly kv: Int8KvState;
  /** The kernel calls two threads share (int8-threads.ts): one thread until a helper serves jobs. */
  private readonly jobs: SplitJobs;
  /** Settles once the helper serves jobs or could not start (never rejects). */
  readonly threadsReady: Promise<void>;

  /** The kernel's build (int8-kernel.ts), and why not relaxed SIMD where it is plain. */
  readonly kernel: Int8KernelBuild;
  readonly kernelNote: string | null;
  /** Rows a prompt block. */
  private readonly blockRows: number;

  /**
   * `spawn`: a second thread's starter (int8-threads.ts), null for one thread; `opts.split`: its minimum sizes
   * (tests); `opts.relaxed`: false keeps the plain-SIMD kernel where relaxed SIMD's int8 dot would be exact;
   * `opts.block`: rows a prompt block (default BLOCK; tests use fewer to run several blocks on a short prompt).
   */
  constructor(
    ort: OrtSessionLike,
    weights: Int8Llama,
    private readonly makeTensor: MakeTensor,
    spawn: Int8HelperSpawn | null = null,
    opts: { split?: SplitMinimums; relaxed?: boolean; block?: number } = {},
  ) {
    this.inputNames = ort.inputNames;
    this.outputNames = ort.outputNames;
    this.inputMetadata = ort.inputMetadata;
    this.outputMetadata = ort.outputMetadata;
    const choice = chooseBuild(opts.relaxed ?? true);
    this.kernel = choice.build;
    this.kernelNote = choice.note;
    const shared = spawn ? instantiateForThreads(choice.build) : null;
    this.k = shared && 'kernel' in shared ? shared.kernel : instantiate(choice.build);
    this.jobs = new SplitJobs(this.k, opts.split);
    if (shared && 'reason' in shared) this.jobs.note = shared.reason;
    this.d = weights.dims;
    const { hidden: h, heads: H, headDim: hd, inter, vocab: V } = this.d;
    this.embed = weights.embed;
    this.invFreq = weights.invFreq;
    this.logits = new Float32Array(V);
    let next = BASE;
    const take = (bytes: number) => {
      const at = next;
      next += align(bytes);
      return at;
    };
    const wide = Math.max(h, inter, H * hd);
    const B = (this.blockRows = opts.block ?? BLOCK);
    this.at = { x: take(4 * h * B), t: take(4 * h * B), x16: take(2 * wide * B), qp: take(8 * B), acc: take(4 * Math.max(V, wide * B)), q: take(4 * H * hd * B), att: take(4 * H * hd * B), o: take(4 * h * B), g: take(4 * inter * B), u: take(4 * inter * B), d: take(4 * h * B), logits: take(4 * V), cos: take(2 * hd * B), sin: take(2 * hd * B) };
    const mats: [Int8Matrix, Placed][] = [];
    const vecs: [Float32Array, number][] = [];
    const place = (m: Int8Matrix): Placed => {
      const p = { K: m.K, N: m.N, w: take(m.K * m.N), scale: take(4 * m.N), rowsum: take(4 * m.N) };
      mats.push([m, p]);
      return p;
    };
    const vec = (v: Float32Array) => {
      const at = take(v.byteLength);
      vecs.push([v, at]);
      return at;
    };
    this.layers = weights.layers.map((l) => ({ ln1: vec(l.ln1), ln2: vec(l.ln2), q: place(l.q), k: place(l.k), v: place(l.v), o: place(l.o), gate: place(l.gate), up: place(l.up), down: place(l.down), bias: l.bias }));
    this.norm = vec(weights.norm);
    this.head = place(weights.head);
    this.kv = new Int8KvState(this.k.memory, next, this.d, this.makeTensor);
    // The weights pass through a staging area where the KV state will be.
    this.kv.reserve(FIRST_CAPACITY, STAGING);
    for (const [v, at] of vecs) new Float32Array(this.k.memory.buffer, at, v.length).set(v);
    this.load(mats, next);
    this.threadsReady = spawn && shared && 'module' in shared ? this.jobs.start(spawn, { module: shared.module, memory: this.k.memory, ctl: new SharedArrayBuffer(CTL_BYTES) }) : Promise.resolve();
  }

  /** Threads the step runs on (2 once its helper serves jobs), and why one where two were asked for. */
  get threads(): number {
    return this.jobs.threads;
  }

  get threadNote(): string | null {
    return this.jobs.note;
  }

  /** Ends the helper thread (the session is not run again). */
  dispose(): void {
    this.jobs.dispose();
  }

  /** Bytes of the kernel's memory (weights, scratch, the KV state). */
  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  /** The weights into the kernel's layout, each matrix's rows passed through the staging area (where the KV state will be). */
  private load(mats: [Int8Matrix, Placed][], staging: number): void {
    const { k } = this;
    for (const [m, p] of mats) {
      const { w, scale } = m.read();
      if (w.length !== m.K * m.N || scale.length !== m.N) throw new Error(`A ${m.K} × ${m.N} weight came as ${w.length} values and ${scale.length} scales.`);
      const rows = Math.max(1, Math.floor(STAGING / m.N));
      for (let k0 = 0; k0 < m.K; k0 += rows) {
        const kc = Math.min(rows, m.K - k0);
        new Int8Array(k.memory.buffer, staging, kc * m.N).set(w.subarray(k0 * m.N, (k0 + kc) * m.N));
        k.transpose(staging, p.w, m.K, m.N, k0, kc);
      }
      new Float32Array(k.memory.buffer, p.scale, m.N).set(scale);
      k.rowSums(p.w, p.rowsum, m.N, m.K);
    }
  }

  async run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>> {
    const ids = feeds['input_ids'];
    const first = feeds['past_key_values.0.key'];
    if (!ids || !(ids.data instanceof BigInt64Array) || !first) throw new Error('The int8 step needs input_ids and past_key_values.');
    const n = ids.data.length;
    const past = first.dims[2] ?? 0;
    const mask = feeds['attention_mask'];
    if (mask && mask.dims[1] !== past + n) throw new Error(`The attention mask covers ${String(mask.dims[1])} positions, not ${past + n}.`);
    const positions = feeds['position_ids']?.data;
    if (positions instanceof BigInt64Array && Number(positions[0]) !== past) throw new Error('The int8 step runs positions that follow the KV state only.');
    const { kv } = this;
    kv.reserve(past + n);
    if (!kv.continues(feeds, past)) {
      for (let l = 0; l < this.d.layers; l++) {
        for (const [i, kind] of ['key', 'value'].entries()) {
          const t = feeds[`past_key_values.${l}.${kind}`];
          if (!(t?.data instanceof Float32Array)) throw new Error(`past_key_values.${l}.${kind} is not float32.`);
          kv.write(2 * l + i, t.data, past);
        }
      }
      kv.rewritten(past);
    }
    // A prompt runs in blocks of rows, each row as a one-token run would (its own activation scale), only the last
    // row through the LM head: so a prompt split in two (a reused KV prefix and the new tokens) gives the numbers
    // the whole prompt gives, which is what makes the KV cache's reuse exact on the step (kv-cache.ts kvReuseBlocker).
    for (let i = 0; i < n; i += this.blockRows) {
      const M = Math.min(this.blockRows, n - i);
      this.block(ids.data, i, M, past + i, i + M === n);
      kv.appended(M);
    }
    if (n > 1) this.counts.prompts++;
    else this.counts.steps++;
    return kv.outputs(this.makeTensor('float32', this.logits, [1, 1, this.d.vocab]));
  }

  /** The kernel's memory as f32 (one view, made again only when the memory grows and detaches it). */
  private f32(): Float32Array {
    const buffer = this.k.memory.buffer;
    if (this.mem.buffer !== buffer) this.mem = new Float32Array(buffer);
    return this.mem;
  }

  /** Each of M rows at `src` (K floats apart) quantized on its own (a scale and zero point a row, as a one-token run's). */
  private quantizeRows(src: number, K: number, M: number): void {
    this.jobs.quantizeRows(src, K, this.at.x16, this.at.qp, M);
  }

  /** The quantized rows through `p` into y [M][N]. */
  private project(p: Placed, y: number, M: number): void {
    const { at } = this;
    this.jobs.project(p.w, at.x16, p.scale, p.rowsum, at.acc, y, p.N, p.K, M, at.qp);
  }

  /** Attention of the block's M rows (row r at position pos0 + r) over layer l's state. */
  private attend(l: number, pos0: number, M: number, scale: number): void {
    const { at, kv } = this;
    const { heads: H, kvHeads: KVH, headDim: hd } = this.d;
    this.jobs.attend(at.q, kv.slotAt(2 * l), kv.slotAt(2 * l + 1), at.att, kv.scores, kv.scores2, pos0, M, H, KVH, hd, scale);
  }

  /** RMSNorm of M rows of the residual stream into the normed rows, with weights `w`. */
  private normRows(w: number, M: number): void {
    const { hidden: h, eps } = this.d;
    this.jobs.norm(this.at.x, w, this.at.t, h, eps, M);
  }

  /**
   * M positions (ids[from ..], from position pos0 on) through every layer, a matrix at a time for all of them; the
   * last one's logits into `this.logits` where `logits`. Each row's numbers are a one-token run's (its own scale;
   * the kernels' sums are exact integers). No allocation: one view, offsets into it.
   */
  private block(ids: BigInt64Array, from: number, M: number, pos0: number, logits: boolean): void {
    const { k, at, kv } = this;
    const { hidden: h, heads: H, kvHeads: KVH, headDim: hd, inter, layers: L, eps, vocab: V } = this.d;
    const m = this.f32();
    // Float offsets of the scratch rows (the rotary angles [BLOCK][hd / 2] at cos and sin).
    const x = at.x >> 2, q = at.q >> 2, cos = at.cos >> 2, sin = at.sin >> 2;
    const half = hd / 2, qw = H * hd, row = KVH * hd;
    for (let r = 0; r < M; r++) {
      const token = Number(ids[from + r]);
      if (!(token >= 0 && token < V)) throw new Error(`Token ${token} is outside the vocabulary.`);
      m.set(this.embed.subarray(token * h, token * h + h), x + r * h);
      for (let j = 0; j < half; j++) {
        const a = Math.fround((pos0 + r) * (this.invFreq[j] ?? 0));
        m[cos + r * half + j] = Math.cos(a);
        m[sin + r * half + j] = Math.sin(a);
      }
    }
    const scale = Math.fround(1 / Math.sqrt(hd));
    for (let l = 0; l < L; l++) {
      const ly = this.layers[l]!;
      // The block's keys and values go straight to their positions in the state: [position][KV heads · head size].
      const keyAt = kv.slotAt(2 * l) + pos0 * row * 4, valueAt = kv.slotAt(2 * l + 1) + pos0 * row * 4;
      this.normRows(ly.ln1, M);
      // One quantization of the normed rows for q, k and v (the graph's three DynamicQuantizeLinear give the same).
      this.quantizeRows(at.t, h, M);
      this.project(ly.q, at.q, M);
      this.project(ly.k, keyAt, M);
      this.project(ly.v, valueAt, M);
      // Qwen2: the export's Add(bias, projection), each sum rounded to f32 by the array.
      if (ly.bias)
        for (let r = 0; r < M; r++) {
          addTo(m, q + r * qw, ly.bias.q);
          addTo(m, (keyAt >> 2) + r * row, ly.bias.k);
          addTo(m, (valueAt >> 2) + r * row, ly.bias.v);
        }
      k.ropeRows(at.q, qw, H, hd, at.cos, at.sin, M);
      k.ropeRows(keyAt, row, KVH, hd, at.cos, at.sin, M);
      // Row r sees positions up to its own (the block's later rows are in the state already, not read).
      this.attend(l, pos0, M, scale);
      this.quantizeRows(at.att, qw, M);
      this.project(ly.o, at.o, M);
      this.jobs.add(at.x, at.o, M * h);
      this.normRows(ly.ln2, M);
      this.quantizeRows(at.t, h, M);
      this.project(ly.gate, at.g, M);
      this.project(ly.up, at.u, M);
      // SiLU(gate) · up, as the export's Sigmoid → Mul → Mul (the kernel's siluMul).
      this.jobs.silu(at.g, at.u, M * inter);
      this.quantizeRows(at.g, inter, M);
      this.project(ly.down, at.d, M);
      this.jobs.add(at.x, at.d, M * h);
    }
    if (!logits) return;
    const last = at.x + (M - 1) * h * 4;
    k.rmsNorm(last, this.norm, at.t, h, eps);
    k.quantizeTo(at.t, h, at.x16, at.qp);
    this.project(this.head, at.logits, 1);
    // A copy the caller owns: the kernel's memory may grow (and its views detach) before the logits are read.
    this.logits.set(m.subarray(at.logits >> 2, (at.logits >> 2) + V));
  }
}

/** m[off ..] += b, elementwise (rounded to f32 by the array). */
function addTo(m: Float32Array, off: number, b: Float32Array): void {
  for (let i = 0; i < b.length; i++) m[off + i] = b[i]! + m[off + i]!;
}
