// About 350 lines: one rewrite (parse, plan, write) in its two targets (fp32, int8) and two output modes (inline, external data).
/**
 * q4 → fp32 or int8 at load time, for ONNX Runtime Web's WASM backend. A q4 model keeps its small
 * download; before the session is created, every 4-bit `com.microsoft.MatMulNBits` node whose
 * weights are plain initializers becomes
 * - a `MatMul` on the same weights dequantized to fp32 (value = (code − zero_point) × scale, per
 *   block of K), when the fp32 weights fit the bound the caller gives;
 * - else the int8 pattern of a q8 model (DynamicQuantizeLinear → MatMulInteger → Cast → Mul) on the
 *   dequantized weights requantized per output column (q4-dequant.ts);
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
import { fields, int64s, str, Writer, WIRE_LEN, type Field } from '../lib/protobuf';
import { externalizeTensor, externalRef } from './external-data';
import { dequantize, quantizeInt8 } from './q4-dequant';
import { q4RewriteTarget, type RewriteLimits } from '../models/dtypes';

/**
 * External mode (external-data.ts has the measured reason): kept initializers become
 * references into the model's own bytes (mounted as `modelFile`), the new fp32 weights references
 * into one buffer (mounted as `weightsFile`), and the model bytes returned are small.
 */
export interface ExternalFiles {
  modelFile: string;
  weightsFile: string;
}

// ONNX field numbers (onnx.proto3).
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP = 4;
const NODE_ATTR = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_I = 3;
const TENSOR_DIMS = 1;
const TENSOR_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_NAME = 8;
const TENSOR_RAW = 9;
const TENSOR_LOCATION = 14;
const ATTR_TYPE = 20;
const ATTR_INT = 2;
const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;

export interface Q4RewriteResult {
  /** The rewritten model, or null when nothing was (or could be) rewritten. */
  bytes: Uint8Array | null;
  /** External mode: the files `bytes` refers to, for ONNX Runtime Web's `externalData` option (else empty). */
  externalData: { path: string; data: Uint8Array }[];
  /** External mode: initializers that are references into those files, and their bytes (else 0). */
  externalTensors: number;
  externalBytes: number;
  converted: number;
  /** MatMulNBits nodes left as they are, with why (first few). */
  kept: number;
  keptReasons: string[];
  /** fp32 weight bytes the rewrite adds (or would add as fp32). */
  fp32Bytes: number;
  /** What the 4-bit MatMuls became (null: nothing rewritten), and the weight bytes that added. */
  to: 'fp32' | 'int8' | null;
  addedBytes: number;
  /** Set when nothing was rewritten on purpose (size bound). */
  skipped: string | null;
}

interface Tensor {
  dims: number[];
  type: number;
  data: Uint8Array | null;
  /** The initializer's field in the graph (to drop it). */
  field: Field;
}

interface Plan {
  node: Field;
  name: string;
  a: string;
  output: string;
  bias: string | null;
  K: number;
  N: number;
  blockSize: number;
  b: Tensor;
  scales: Float32Array;
  zeroPoints: Uint8Array | null;
  drop: string[];
}

function readTensor(buf: Uint8Array, f: Field): { name: string; t: Tensor } {
  const fs = fields(buf, f.valueStart, f.valueEnd);
  let name = '';
  let type = 0;
  let data: Uint8Array | null = null;
  let external = false;
  for (const x of fs) {
    if (x.no === TENSOR_NAME) name = str(buf, x);
    else if (x.no === TENSOR_TYPE) type = x.varint;
    else if (x.no === TENSOR_RAW) data = buf.subarray(x.valueStart, x.valueEnd);
    else if (x.no === TENSOR_FLOAT_DATA && x.wire === WIRE_LEN) data = buf.subarray(x.valueStart, x.valueEnd);
    else if (x.no === TENSOR_LOCATION && x.varint === 1) external = true;
  }
  return { name, t: { dims: int64s(buf, fs, TENSOR_DIMS), type, data: external ? null : data, field: f } };
}

function floats(bytes: Uint8Array): Float32Array {
  // Copy: the bytes sit at any offset of the model buffer, a Float32Array view needs 4-byte alignment.
  return new Float32Array(bytes.slice().buffer);
}

/** Why `node` cannot be rewritten, or its plan. */
function planNode(buf: Uint8Array, node: Field, inits: Map<string, Tensor>): Plan | string {
  const fs = fields(buf, node.valueStart, node.valueEnd);
  const inputs = fs.filter((f) => f.no === NODE_INPUT).map((f) => str(buf, f));
  const outputs = fs.filter((f) => f.no === NODE_OUTPUT).map((f) => str(buf, f));
  const name = fs.find((f) => f.no === NODE_NAME);
  const attrs = new Map<string, number>();
  for (const a of fs.filter((f) => f.no === NODE_ATTR)) {
    const afs = fields(buf, a.valueStart, a.valueEnd);
    const n = afs.find((f) => f.no === ATTR_NAME);
    const i = afs.find((f) => f.no === ATTR_I);
    if (n && i) attrs.set(str(buf, n), i.varint);
  }
  const K = attrs.get('K') ?? 0;
  const N = attrs.get('N') ?? 0;
  const bits = attrs.get('bits') ?? 4;
  const blockSize = attrs.get('block_size') ?? 0;
  if (bits !== 4) return `bits=${bits}`;
  if (!K || !N || blockSize < 16 || blockSize % 2) return 'no K, N or block_size';
  if (inputs[4]) return 'g_idx';
  const [a = '', bName = '', sName = '', zName = ''] = inputs;
  const b = inits.get(bName);
  const s = inits.get(sName);
  const z = zName ? inits.get(zName) : undefined;
  if (!b?.data || !s?.data || (zName && !z?.data)) return 'weights are not plain initializers';
  if (s.type !== FLOAT) return `scales of type ${s.type}`;
  if (z && z.type !== UINT8) return `zero points of type ${z.type}`;
  const nb = Math.ceil(K / blockSize);
  if (b.data.length !== N * nb * (blockSize / 2)) return 'B size';
  const scales = floats(s.data);
  if (scales.length !== N * nb) return 'scales size';
  if (z?.data && z.data.length !== N * Math.ceil(nb / 2)) return 'zero points size';
  return {
    node,
    name: name ? str(buf, name) : `${outputs[0] ?? ''}_MatMulNBits`,
    a,
    output: outputs[0] ?? '',
    bias: inputs[5] || null,
    K,
    N,
    blockSize,
    b,
    scales,
    zeroPoints: z?.data ?? null,
    drop: [bName, sName, ...(zName ? [zName] : [])],
  };
}

/**
 * Dequantizes `p` into `out` at byte `at`: in place when aligned, else through `scratch` (one
 * buffer per rewrite, reused by its nodes, not one allocation a node; dropped with the rewrite).
 */
function dequantizeInto(p: Plan, out: Uint8Array, at: number, scratch: { buf: Float32Array | null }): void {
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

/**
 * Rewrites the MatMulNBits nodes of the ONNX model in `model`: as fp32 MatMuls when their fp32
 * weights fit `maxFp32Bytes`, else as int8 MatMulIntegers when those fit `maxInt8Bytes`, else not
 * at all. `external`: the weights go into one mounted buffer (see ExternalFiles).
 */
export function rewriteQ4(model: Uint8Array, limits: Partial<RewriteLimits> = {}, external: ExternalFiles | null = null): Q4RewriteResult {
  const { maxFp32Bytes = Infinity, maxInt8Bytes = 0 } = limits;
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  const none = (extra: Partial<Q4RewriteResult>): Q4RewriteResult => ({ bytes: null, externalData: [], externalTensors: 0, externalBytes: 0, converted: 0, kept: 0, keptReasons: [], fp32Bytes: 0, to: null, addedBytes: 0, skipped: null, ...extra });
  if (!graph) return none({});
  const gfs = fields(model, graph.valueStart, graph.valueEnd);
  const nbits = gfs.filter((f) => {
    if (f.no !== GRAPH_NODE) return false;
    const nfs = fields(model, f.valueStart, f.valueEnd);
    const op = nfs.find((x) => x.no === NODE_OP);
    const dom = nfs.find((x) => x.no === NODE_DOMAIN);
    return op !== undefined && str(model, op) === 'MatMulNBits' && (!dom || str(model, dom) === 'com.microsoft');
  });
  if (!nbits.length) return none({});
  const inits = new Map<string, Tensor>();
  for (const f of gfs) {
    if (f.no !== GRAPH_INITIALIZER) continue;
    const { name, t } = readTensor(model, f);
    inits.set(name, t);
  }
  const plans = new Map<Field, Plan>();
  const keptReasons: string[] = [];
  for (const node of nbits) {
    const p = planNode(model, node, inits);
    if (typeof p === 'string') keptReasons.push(p);
    else plans.set(node, p);
  }
  const kept = nbits.length - plans.size;
  const weights = [...plans.values()].reduce((s, p) => s + p.K * p.N, 0);
  const fp32Bytes = weights * 4;
  if (!plans.size) return none({ kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes });
  const to = q4RewriteTarget(weights, { maxFp32Bytes, maxInt8Bytes });
  if (!to) {
    const mb = (n: number) => Math.round(n / 1e6);
    return none({ kept: nbits.length, fp32Bytes, skipped: `${mb(fp32Bytes)} MB of fp32 weights would exceed the ${mb(maxFp32Bytes)} MB bound${maxInt8Bytes ? `, and ${mb(weights)} MB of int8 ones the ${mb(maxInt8Bytes)} MB one` : ''}` });
  }
  // An initializer still read by a node that stays is kept.
  const dropped = new Set<string>();
  for (const p of plans.values()) for (const d of p.drop) dropped.add(d);
  for (const f of gfs) {
    if (f.no !== GRAPH_NODE || plans.has(f)) continue;
    for (const x of fields(model, f.valueStart, f.valueEnd)) if (x.no === NODE_INPUT) dropped.delete(str(model, x));
  }
  const g = new Writer();
  const newInits: Writer[] = [];
  // External mode: every new weight in one buffer, written now (no second copy at finish()).
  const elem = to === 'fp32' ? 4 : 1;
  const buf = external ? new ArrayBuffer(weights * elem) : null;
  let bufAt = 0;
  const scratch = { buf: null as Float32Array | null };
  let externalTensors = 0;
  let externalBytes = 0;
  // int8: one DynamicQuantizeLinear per activation, shared by the MatMuls that read it (q, k, v; gate, up).
  const quantized = new Map<string, string>();
  for (const f of gfs) {
    const p = plans.get(f);
    if (p) {
      const out = p.bias ? `${p.output}_nobias` : p.output;
      const t = to === 'fp32' ? fp32Weight(p, g, out, buf, bufAt, external, scratch) : int8Weight(p, g, out, buf, bufAt, external, quantized, newInits);
      if (p.bias) g.bytes(GRAPH_NODE, nodeProto('Add', [out, p.bias], [p.output], `${p.name}_bias`));
      if (external) {
        bufAt += p.K * p.N * elem;
        externalTensors++;
        externalBytes += p.K * p.N * elem;
      }
      newInits.push(t);
    } else if (f.no === GRAPH_INITIALIZER && dropped.has(readTensor(model, f).name)) {
      continue;
    } else {
      const t = external && f.no === GRAPH_INITIALIZER ? externalizeTensor(model, f, external.modelFile) : null;
      if (t) {
        g.bytes(GRAPH_INITIALIZER, t.tensor);
        externalTensors++;
        externalBytes += t.bytes;
      } else g.raw(model.subarray(f.start, f.end));
    }
  }
  for (const t of newInits) g.bytes(GRAPH_INITIALIZER, t);
  const m = new Writer();
  for (const f of top) {
    if (f === graph) m.bytes(MODEL_GRAPH, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  const externalData = external && buf ? [{ path: external.modelFile, data: model }, { path: external.weightsFile, data: new Uint8Array(buf) }] : [];
  return { bytes: m.finish(), externalData, externalTensors, externalBytes, converted: plans.size, kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes, to, addedBytes: weights * elem, skipped: null };
}

/** MatMul(a, W fp32) → out; returns W's initializer (in `buf` at byte `at` in external mode, else inline). */
function fp32Weight(p: Plan, g: Writer, out: string, buf: ArrayBuffer | null, at: number, external: ExternalFiles | null, scratch: { buf: Float32Array | null }): Writer {
  const wName = `${p.name}_fp32_weight`;
  g.bytes(GRAPH_NODE, nodeProto('MatMul', [p.a, wName], [out], `${p.name}_fp32`));
  const t = tensorProto(wName, [p.K, p.N], FLOAT);
  if (external && buf) {
    dequantize(p, new Float32Array(buf, at, p.K * p.N));
    return externalRef(t, external.weightsFile, at, p.K * p.N * 4);
  }
  return t.bytes(TENSOR_RAW, { size: p.K * p.N * 4, fill: (o: Uint8Array, i: number) => dequantizeInto(p, o, i, scratch) });
}

/**
 * DynamicQuantizeLinear(a) (once per `a`) → MatMulInteger(a_q, Wq, a_zp, 0) → Cast → × (a_scale × scale)
 * → out, the pattern of ONNX Runtime's quantize_dynamic and of the project's q8 models; returns
 * Wq's initializer, the column scales and zero points going to `inits`.
 */
function int8Weight(p: Plan, g: Writer, out: string, buf: ArrayBuffer | null, at: number, external: ExternalFiles | null, quantized: Map<string, string>, inits: Writer[]): Writer {
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
  const scale = new Float32Array(p.N);
  const t = tensorProto(wName, [p.K, p.N], INT8);
  if (external && buf) {
    quantizeInt8(p, new Int8Array(buf, at, p.K * p.N), 0, scale);
    externalRef(t, external.weightsFile, at, p.K * p.N);
  } else {
    const Wq = new Int8Array(p.K * p.N);
    quantizeInt8(p, Wq, 0, scale);
    t.bytes(TENSOR_RAW, new Uint8Array(Wq.buffer));
  }
  inits.push(tensorProto(`${n}_int8_scale`, [p.N], FLOAT).bytes(TENSOR_RAW, new Uint8Array(scale.buffer)));
  inits.push(tensorProto(`${n}_int8_zp`, [p.N], INT8).bytes(TENSOR_RAW, new Uint8Array(p.N)));
  return t;
}
