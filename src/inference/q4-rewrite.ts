/**
 * q4 → fp32 or int8 at load time, for ONNX Runtime Web's WASM backend. A q4 model keeps its small
 * download; before the session is created, every 4-bit `com.microsoft.MatMulNBits` node whose
 * weights are plain initializers becomes
 * - a `MatMul` on the same weights dequantized to fp32 (value = (code − zero_point) × scale, per
 *   block of K), when the fp32 weights fit the bound the caller gives;
 * - else the int8 pattern of a q8 model (DynamicQuantizeLinear → MatMulInteger → Cast → Mul) on the
 *   dequantized weights requantized per output column (q4-int8.ts, in WebAssembly SIMD);
 * the packed initializers dropped.
 *
 * Measured reason (issue 12; docs/performance.md, "q4 on WASM"): ORT-web's WASM build has no
 * MLAS 4-bit GEMM kernels, so MatMulNBits falls back to dequantizing the whole weight into a
 * temporary buffer on every call: a 106M-parameter model decoded q4 at 2.7/5.3 tok/s (1/2 threads)
 * against 42.7 tok/s for fp32 in the same browser and 55–73 natively (ratio 0.05–0.07), and the
 * Qwen2.5-0.5B shape at 1.05 tok/s against 26.7 natively. The dequantized MatMul runs the fp32
 * kernels (bandwidth-bound, the same speed as the fp32 model: figures in performance.md), and the
 * numbers are those MatMulNBits computes (fp32 dequantization then an fp32 GEMM), so greedy output
 * matches the unconverted model (tests/e2e/scale-parity.test.ts). Its cost is memory: 4 bytes a
 * weight in the session instead of ~0.56, so past the fp32 bound (a 0.5B model would need 1.98 GB)
 * the int8 form runs the q8 kernels at 1 byte a weight; its numbers are a q8 model's (the 4-bit
 * values requantized, activations quantized per call), close to but not those of MatMulNBits.
 */
import { fields, str, Writer } from '../lib/protobuf';
import { externalizeTensor, externalRef } from './external-data';
import { dequantize, fillGroup, splitJobs, type FilledGroup, type Q4Weights, type RewriteTo } from './q4-dequant';
import { createInt8Quantizer, type Int8Quantizer } from './q4-int8';
import { ATTR_I, ATTR_INT, ATTR_NAME, ATTR_TYPE, decide, FLOAT, GRAPH_INITIALIZER, GRAPH_NODE, INT8, MODEL_GRAPH, NODE_ATTR, NODE_INPUT, NODE_NAME, NODE_OP, NODE_OUTPUT, readTensor, TENSOR_DIMS, TENSOR_NAME, TENSOR_RAW, TENSOR_TYPE, type Decided, type Plan, type Q4RewriteResult } from './q4-plan';
import type { RewriteLimits } from '../models/dtypes';

export type { Q4RewriteResult } from './q4-plan';

/**
 * External mode (external-data.ts has the measured reason): kept initializers become
 * references into the model's own bytes (mounted as `modelFile`), the new fp32 weights references
 * into one buffer (mounted as `weightsFile`), and the model bytes returned are small.
 */
export interface ExternalFiles {
  modelFile: string;
  weightsFile: string;
}

/** One rewrite's reused working state: an fp32 buffer for unaligned nodes, the int8 quantizer (its WebAssembly memory). */
interface Scratch {
  buf: Float32Array | null;
  int8: Int8Quantizer | null;
}

/**
 * Dequantizes `p` into `out` at byte `at`: in place when aligned, else through `scratch` (one
 * buffer per rewrite, reused by its nodes, not one allocation a node; dropped with the rewrite).
 */
function dequantizeInto(p: Plan, out: Uint8Array, at: number, scratch: Scratch): void {
  const n = p.K * p.N;
  if ((out.byteOffset + at) % 4 === 0) {
    dequantize(p, new Float32Array(out.buffer, out.byteOffset + at, n));
    return;
  }
  if (!scratch.buf || scratch.buf.length < n) scratch.buf = new Float32Array(n);
  dequantize(p, scratch.buf);
  out.set(new Uint8Array(scratch.buf.buffer, 0, n * 4), at);
}

function nodeProto(op: string, inputs: string[], outputs: string[], name: string): Writer {
  const w = new Writer();
  for (const i of inputs) w.string(NODE_INPUT, i);
  for (const o of outputs) w.string(NODE_OUTPUT, o);
  return w.string(NODE_NAME, name).string(NODE_OP, op);
}

/** A raw-data tensor proto (dims, type, name). */
function tensorProto(name: string, dims: number[], type: number): Writer {
  const t = new Writer();
  for (const d of dims) t.int(TENSOR_DIMS, d);
  return t.int(TENSOR_TYPE, type).string(TENSOR_NAME, name);
}

/** External mode: the model's own file, and where each rewritten node's weights went (file index, byte offset) with its int8 column scales. */
interface Placement {
  modelFile: string;
  files: { path: string; data: Uint8Array }[];
  at: Map<Plan, { file: number; offset: number; scale: Float32Array | null }>;
}

/** Fills the new weights of `groups` (each a FilledGroup, in the same order); worker/rewrite-helpers.ts spreads them over workers. */
export type WeightFill = (groups: Q4Weights[][], to: RewriteTo) => Promise<FilledGroup[]>;

/** The mounted name of weights group `g` (group 0 keeps the caller's name). */
export function weightsFilePath(base: string, g: number): string {
  return g === 0 ? base : `${base.replace(/\.bin$/, '')}-${g}.bin`;
}

/** Where the filled groups' weights sit: group g is mounted as `weightsFilePath(external.weightsFile, g)`. */
function place(d: Decided, groups: number[][], filled: FilledGroup[], external: ExternalFiles): Placement {
  const elem = d.to === 'fp32' ? 4 : 1;
  const at: Placement['at'] = new Map();
  groups.forEach((g, file) => {
    let offset = 0;
    g.forEach((i, k) => {
      const p = d.order[i]!;
      at.set(p, { file, offset, scale: d.to === 'int8' ? filled[file]!.scales[k]! : null });
      offset += p.K * p.N * elem;
    });
  });
  return { modelFile: external.modelFile, files: filled.map((f, g) => ({ path: weightsFilePath(external.weightsFile, g), data: f.data })), at };
}

/**
 * Rewrites the MatMulNBits nodes of the ONNX model in `model`: as fp32 MatMuls when their fp32
 * weights fit `maxFp32Bytes`, else as int8 MatMulIntegers when those fit `maxInt8Bytes`, else not
 * at all. `external`: the weights go into one mounted buffer (see ExternalFiles).
 */
export function rewriteQ4(model: Uint8Array, limits: Partial<RewriteLimits> = {}, external: ExternalFiles | null = null): Q4RewriteResult {
  const d = decide(model, limits);
  if (!('order' in d)) return d;
  if (!external) return write(model, d, null);
  return write(model, d, place(d, [d.order.map((_, i) => i)], [fillGroup(d.order, d.to)], external));
}

/**
 * rewriteQ4 in external mode with the weights filled in `groups` groups by `fill` (which may run
 * them on other workers): one mounted weights file a group (`weightsFilePath`).
 */
export async function rewriteQ4Split(model: Uint8Array, limits: Partial<RewriteLimits>, external: ExternalFiles, groups: number, fill: WeightFill): Promise<Q4RewriteResult> {
  const d = decide(model, limits);
  if (!('order' in d)) return d;
  const split = splitJobs(d.order, groups);
  const filled = await fill(split.map((g) => g.map((i) => d.order[i]!)), d.to);
  return write(model, d, place(d, split, filled, external));
}

/** The rewritten model: inline weights (`placement` null), or references to where they were filled. */
function write(model: Uint8Array, d: Decided, placement: Placement | null): Q4RewriteResult {
  const { to, plans } = d;
  const g = new Writer();
  const newInits: Writer[] = [];
  const scratch: Scratch = { buf: null, int8: null };
  let externalTensors = 0;
  let externalBytes = 0;
  // int8: one DynamicQuantizeLinear per activation, shared by the MatMuls that read it (q, k, v; gate, up).
  const quantized = new Map<string, string>();
  const elem = to === 'fp32' ? 4 : 1;
  for (const f of d.gfs) {
    const p = plans.get(f);
    if (p) {
      const out = p.bias ? `${p.output}_nobias` : p.output;
      const where = placement?.at.get(p) ?? null;
      const ref = placement && where ? { path: placement.files[where.file]!.path, offset: where.offset } : null;
      const t = to === 'fp32' ? fp32Weight(p, g, out, ref, scratch) : int8Weight(p, g, out, ref, where?.scale ?? null, quantized, newInits, scratch);
      if (p.bias) g.bytes(GRAPH_NODE, nodeProto('Add', [out, p.bias], [p.output], `${p.name}_bias`));
      if (ref) {
        externalTensors++;
        externalBytes += p.K * p.N * elem;
      }
      newInits.push(t);
    } else if (f.no === GRAPH_INITIALIZER && d.dropped.has(readTensor(model, f).name)) {
      continue;
    } else {
      const t = placement && f.no === GRAPH_INITIALIZER ? externalizeTensor(model, f, placement.modelFile) : null;
      if (t) {
        g.bytes(GRAPH_INITIALIZER, t.tensor);
        externalTensors++;
        externalBytes += t.bytes;
      } else g.raw(model.subarray(f.start, f.end));
    }
  }
  for (const t of newInits) g.bytes(GRAPH_INITIALIZER, t);
  const m = new Writer();
  for (const f of d.top) {
    if (f === d.graph) m.bytes(MODEL_GRAPH, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  const externalData = placement ? [{ path: placement.modelFile, data: model }, ...placement.files] : [];
  return { bytes: m.finish(), externalData, externalTensors, externalBytes, converted: plans.size, kept: d.kept, keptReasons: d.keptReasons, fp32Bytes: d.fp32Bytes, to, addedBytes: d.weights * elem, skipped: null };
}

/** MatMul(a, W fp32) → out; returns W's initializer: a reference to where it was filled (`ref`), else inline. */
function fp32Weight(p: Plan, g: Writer, out: string, ref: { path: string; offset: number } | null, scratch: Scratch): Writer {
  const wName = `${p.name}_fp32_weight`;
  g.bytes(GRAPH_NODE, nodeProto('MatMul', [p.a, wName], [out], `${p.name}_fp32`));
  const t = tensorProto(wName, [p.K, p.N], FLOAT);
  if (ref) return externalRef(t, ref.path, ref.offset, p.K * p.N * 4);
  return t.bytes(TENSOR_RAW, { size: p.K * p.N * 4, fill: (o: Uint8Array, i: number) => dequantizeInto(p, o, i, scratch) });
}

/**
 * DynamicQuantizeLinear(a) (once per `a`) → MatMulInteger(a_q, Wq, a_zp, 0) → Cast → × (a_scale × scale)
 * → out, the pattern of ONNX Runtime's quantize_dynamic and of the project's q8 models; returns
 * Wq's initializer, the column scales and zero points going to `inits`.
 */
function int8Weight(p: Plan, g: Writer, out: string, ref: { path: string; offset: number } | null, filledScale: Float32Array | null, quantized: Map<string, string>, inits: Writer[], scratch: Scratch): Writer {
  let q = quantized.get(p.a);
  if (!q) {
    q = `${p.name}_a`;
    quantized.set(p.a, q);
    g.bytes(GRAPH_NODE, nodeProto('DynamicQuantizeLinear', [p.a], [`${q}_q`, `${q}_scale`, `${q}_zp`], `${q}_dql`));
  }
  const n = p.name;
  const wName = `${n}_int8_weight`;
  g.bytes(GRAPH_NODE, nodeProto('MatMulInteger', [`${q}_q`, wName, `${q}_zp`, `${n}_int8_zp`], [`${n}_mmi`], `${n}_mmi`));
  const cast = nodeProto('Cast', [`${n}_mmi`], [`${n}_mmi_f`], `${n}_cast`);
  cast.bytes(NODE_ATTR, new Writer().string(ATTR_NAME, 'to').int(ATTR_I, FLOAT).int(ATTR_TYPE, ATTR_INT));
  g.bytes(GRAPH_NODE, cast);
  g.bytes(GRAPH_NODE, nodeProto('Mul', [`${q}_scale`, `${n}_int8_scale`], [`${n}_scale`], `${n}_scale_mul`));
  g.bytes(GRAPH_NODE, nodeProto('Mul', [`${n}_mmi_f`, `${n}_scale`], [out], `${n}_out_mul`));
  const t = tensorProto(wName, [p.K, p.N], INT8);
  let scale = filledScale;
  if (ref && scale) externalRef(t, ref.path, ref.offset, p.K * p.N);
  else {
    scale = new Float32Array(p.N);
    const Wq = new Int8Array(p.K * p.N);
    scratch.int8 ??= createInt8Quantizer();
    scratch.int8(p, Wq, 0, scale);
    t.bytes(TENSOR_RAW, new Uint8Array(Wq.buffer));
  }
  inits.push(tensorProto(`${n}_int8_scale`, [p.N], FLOAT).bytes(TENSOR_RAW, new Uint8Array(scale.buffer, scale.byteOffset, scale.byteLength)));
  inits.push(tensorProto(`${n}_int8_zp`, [p.N], INT8).bytes(TENSOR_RAW, new Uint8Array(p.N)));
  return t;
}
