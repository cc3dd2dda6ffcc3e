/**
 * An int8 decode step of our own, behind the session interface the KV decode loop already drives
 * (kv-decoder.ts `OrtSessionLike`): one-token runs go through WebAssembly kernels (tools/wasm/int8-step.ts),
 * prompt runs (more than one token) through the ONNX Runtime session it wraps, whose KV cache it takes over.
 * So the loop, sampling, stops, grammars and the KV cache across turns (kv-cache.ts) are unchanged.
 *
 * Why (measured, docs/performance.md "An int8 decode step of our own"): ONNX Runtime Web's WASM QGEMM repacks
 * every weight on every run, so a q8 model decoded at ~0.45 of native speed; on the same bytes and instruction
 * set the step's int8 matmuls run 3.6-4.9x faster in `gemvS16`.
 *
 * Exactness: every run computes what the export's graph computes at one token (ONNX's DynamicQuantizeLinear →
 * MatMulInteger → Cast → Mul, RMSNorm, rotary, grouped-query attention, SiLU) in f32; the integer products are
 * exact, only the order of some f32 sums differs from ONNX Runtime's, so greedy ids are native's up to a near
 * tie (tests/int8-session-node.test.ts). Prompts go through ONNX Runtime, as onnxruntime-node runs them: a
 * DynamicQuantizeLinear over several rows has one scale for all of them, which the step's row-at-a-time
 * arithmetic would not reproduce.
 *
 * The KV state lives in the kernel's memory (int8-kv.ts); the `present.*` a run returns are views of it, which
 * the loop copies only where it keeps a state (kv-decoder.ts: `outputsReused`).
 */
import { base64ToBytes } from '../lib/base64';
import type { Int8Llama, Int8LlamaLayer, Int8Matrix } from './int8-llama';
import { Int8KvState, StateTensor } from './int8-kv';
import { INT8_STEP_WASM } from './int8-step.wasm';
import type { MakeTensor, OrtSessionLike, OrtTensorLike, ValueMetadata } from './kv-decoder';


/** The kernel's exports (tools/wasm/int8-step.ts). */
export interface Int8StepKernel {
  memory: WebAssembly.Memory;
  quantize(x: number, K: number, x16: number): void;
  project(w: number, x16: number, wscale: number, rowsum: number, acc: number, y: number, N: number, K: number): void;
  transpose(src: number, dst: number, K: number, N: number, k0: number, kc: number): void;
  rowSums(w: number, rowsum: number, N: number, K: number): void;
  rmsNorm(x: number, w: number, y: number, n: number, eps: number): void;
  attend(q: number, keys: number, values: number, out: number, scores: number, pos: number, H: number, KVH: number, hd: number, scale: number): void;
}

function isKernel(x: WebAssembly.Exports): x is WebAssembly.Exports & Int8StepKernel {
  return x['memory'] instanceof WebAssembly.Memory && ['quantize', 'project', 'transpose', 'rowSums', 'rmsNorm', 'attend'].every((k) => typeof x[k] === 'function');
}

let compiled: WebAssembly.Module | null = null;

/** The kernel (2 kB: compiled synchronously, which workers allow at any size), a fresh instance. */
function instantiate(): Int8StepKernel {
  compiled ??= new WebAssembly.Module(base64ToBytes(INT8_STEP_WASM));
  const { exports } = new WebAssembly.Instance(compiled, {});
  if (!isKernel(exports)) throw new Error('the int8 step kernel lacks an export');
  return exports;
}

/** Where the step's memory begins (the module keeps nothing of its own above its first page). */
const BASE = 65536;
/** Rows of a weight passed through the staging area at a time (a load's transpose): at most this many bytes. */
const STAGING = 4 << 20;
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
  /** Runs of one token the kernels took / prompt runs ONNX Runtime took. */
  readonly counts = { steps: 0, prompts: 0 };

  private readonly k: Int8StepKernel;
  private readonly d: Int8Llama['dims'];
  private readonly embed: Float32Array;
  private readonly layers: { ln1: number; ln2: number; q: Placed; k: Placed; v: Placed; o: Placed; gate: Placed; up: Placed; down: Placed; bias: Int8LlamaLayer['bias'] }[];
  private readonly norm: number;
  private readonly head: Placed;
  private readonly invFreq: Float32Array;
  private readonly logits: Float32Array;
  /** The rotary angles of the position being run, [headDim / 2] each. */
  private readonly cos: Float32Array;
  private readonly sin: Float32Array;
  private mem = new Float32Array(0);
  // Scratch in the kernel's memory: the residual stream, a normed row, its quantized form, the int32 sums,
  // each projection's output, the attention's output.
  private readonly at: Record<'x' | 't' | 'x16' | 'acc' | 'q' | 'att' | 'o' | 'g' | 'u' | 'd' | 'logits', number>;
  private readonly kv: Int8KvState;

  constructor(
    private readonly ort: OrtSessionLike,
    weights: Int8Llama,
    private readonly makeTensor: MakeTensor,
  ) {
    this.inputNames = ort.inputNames;
    this.outputNames = ort.outputNames;
    this.inputMetadata = ort.inputMetadata;
    this.outputMetadata = ort.outputMetadata;
    this.k = instantiate();
    this.d = weights.dims;
    const { hidden: h, heads: H, headDim: hd, inter, vocab: V } = this.d;
    this.embed = weights.embed;
    this.invFreq = weights.invFreq;
    this.logits = new Float32Array(V);
    this.cos = new Float32Array(hd / 2);
    this.sin = new Float32Array(hd / 2);
    let next = BASE;
    const take = (bytes: number) => {
      const at = next;
      next += align(bytes);
      return at;
    };
    const wide = Math.max(h, inter, H * hd);
    this.at = { x: take(4 * h), t: take(4 * h), x16: take(2 * wide), acc: take(4 * Math.max(V, wide)), q: take(4 * H * hd), att: take(4 * H * hd), o: take(4 * h), g: take(4 * inter), u: take(4 * inter), d: take(4 * h), logits: take(4 * V) };
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
    if (n > 1) return this.prompt(feeds, past + n);
    const { kv } = this;
    if (!kv.continues(feeds, past)) {
      kv.reserve(past + 1);
      for (let l = 0; l < this.d.layers; l++) {
        for (const [i, kind] of ['key', 'value'].entries()) {
          const t = feeds[`past_key_values.${l}.${kind}`];
          if (!(t?.data instanceof Float32Array)) throw new Error(`past_key_values.${l}.${kind} is not float32.`);
          kv.write(2 * l + i, t.data, past);
        }
      }
      kv.rewritten(past);
    }
    kv.reserve(past + 1);
    this.step(Number(ids.data[0]), past);
    kv.appended();
    this.counts.steps++;
    return kv.outputs(this.makeTensor('float32', this.logits, [1, 1, this.d.vocab]));
  }

  /** A run of several tokens: ONNX Runtime's, its KV cache then taken over. */
  private async prompt(feeds: Record<string, OrtTensorLike>, total: number): Promise<Record<string, OrtTensorLike>> {
    const plain: Record<string, OrtTensorLike> = {};
    for (const [name, t] of Object.entries(feeds)) plain[name] = t instanceof StateTensor ? this.makeTensor('float32', t.data, [...t.dims]) : t;
    const out = await this.ort.run(plain);
    const { kv } = this;
    kv.reserve(total);
    for (let l = 0; l < this.d.layers; l++) {
      for (const [i, kind] of ['key', 'value'].entries()) {
        const t = out[`present.${l}.${kind}`];
        if (!(t?.data instanceof Float32Array) || t.dims[2] !== total) throw new Error(`The model returned no present.${l}.${kind} of ${total} positions.`);
        kv.write(2 * l + i, t.data, total);
      }
    }
    kv.rewritten(total);
    this.counts.prompts++;
    const logits = out['logits'];
    if (!logits) throw new Error('The model returned no logits.');
    return kv.outputs(logits);
  }

  /** The kernel's memory as f32 (one view, made again only when the memory grows and detaches it). */
  private f32(): Float32Array {
    const buffer = this.k.memory.buffer;
    if (this.mem.buffer !== buffer) this.mem = new Float32Array(buffer);
    return this.mem;
  }

  /** One position through every layer; its logits into `this.logits`. No allocation a token: one view, offsets into it. */
  private step(token: number, pos: number): void {
    const { k, at, kv, cos, sin } = this;
    const { hidden: h, heads: H, kvHeads: KVH, headDim: hd, inter, layers: L, eps, vocab: V } = this.d;
    if (!(token >= 0 && token < V)) throw new Error(`Token ${token} is outside the vocabulary.`);
    const m = this.f32();
    // Float offsets of the scratch rows.
    const x = at.x >> 2, q = at.q >> 2, o = at.o >> 2, g = at.g >> 2, u = at.u >> 2, dn = at.d >> 2;
    m.set(this.embed.subarray(token * h, token * h + h), x);
    const row = KVH * hd;
    const scale = Math.fround(1 / Math.sqrt(hd));
    for (let j = 0; j < hd / 2; j++) {
      const a = Math.fround(pos * (this.invFreq[j] ?? 0));
      cos[j] = Math.cos(a);
      sin[j] = Math.sin(a);
    }
    const proj = (p: Placed, y: number) => k.project(p.w, at.x16, p.scale, p.rowsum, at.acc, y, p.N, p.K);
    for (let l = 0; l < L; l++) {
      const ly = this.layers[l]!;
      const keyAt = kv.slotAt(2 * l) + pos * row * 4, valueAt = kv.slotAt(2 * l + 1) + pos * row * 4;
      k.rmsNorm(at.x, ly.ln1, at.t, h, eps);
      // One quantization of the normed row for q, k and v (the graph's three DynamicQuantizeLinear give the same).
      k.quantize(at.t, h, at.x16);
      proj(ly.q, at.q);
      proj(ly.k, keyAt);
      proj(ly.v, valueAt);
      // Qwen2: the export's Add(bias, projection), each sum rounded to f32 by the array.
      if (ly.bias) {
        addTo(m, q, ly.bias.q);
        addTo(m, keyAt >> 2, ly.bias.k);
        addTo(m, valueAt >> 2, ly.bias.v);
      }
      rope(m, q, H, hd, cos, sin);
      rope(m, keyAt >> 2, KVH, hd, cos, sin);
      k.attend(at.q, kv.slotAt(2 * l), kv.slotAt(2 * l + 1), at.att, kv.scores, pos, H, KVH, hd, scale);
      k.quantize(at.att, H * hd, at.x16);
      proj(ly.o, at.o);
      for (let i = 0; i < h; i++) m[x + i] = m[x + i]! + m[o + i]!;
      k.rmsNorm(at.x, ly.ln2, at.t, h, eps);
      k.quantize(at.t, h, at.x16);
      proj(ly.gate, at.g);
      proj(ly.up, at.u);
      // SiLU(gate) · up, as the export's Sigmoid → Mul → Mul (each rounded to f32 by the array).
      for (let i = 0; i < inter; i++) {
        const a = m[g + i]!;
        m[g + i] = Math.fround(a * Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-a))))) * m[u + i]!;
      }
      k.quantize(at.g, inter, at.x16);
      proj(ly.down, at.d);
      for (let i = 0; i < h; i++) m[x + i] = m[x + i]! + m[dn + i]!;
    }
    k.rmsNorm(at.x, this.norm, at.t, h, eps);
    k.quantize(at.t, h, at.x16);
    proj(this.head, at.logits);
    // A copy the caller owns: the kernel's memory may grow (and its views detach) before the logits are read.
    this.logits.set(m.subarray(at.logits >> 2, (at.logits >> 2) + V));
  }
}

/** m[off ..] += b, elementwise (rounded to f32 by the array). */
function addTo(m: Float32Array, off: number, b: Float32Array): void {
  for (let i = 0; i < b.length; i++) m[off + i] = b[i]! + m[off + i]!;
}

/** Rotary positions on `heads` heads of the rows at m[off ..] in place (the halves rotated, as the export's rotate_half). */
function rope(m: Float32Array, off: number, heads: number, hd: number, cos: Float32Array, sin: Float32Array): void {
  const half = hd / 2;
  for (let k = 0; k < heads; k++) {
    const o = off + k * hd;
    for (let j = 0; j < half; j++) {
      const a = m[o + j]!, b = m[o + j + half]!, c = cos[j]!, s = sin[j]!;
      m[o + j] = Math.fround(a * c) - Math.fround(b * s);
      m[o + j + half] = Math.fround(b * c) + Math.fround(a * s);
    }
  }
}
