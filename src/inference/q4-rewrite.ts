// About 320 lines: one rewrite (parse, plan, dequantize, write) in its two output modes, inline and external data.
/**
 * q4 → fp32 at load time, for ONNX Runtime Web's WASM backend. A q4 model keeps its small
 * download; before the session is created, every 4-bit `com.microsoft.MatMulNBits` node whose
 * weights are plain initializers becomes a `MatMul` on the same weights dequantized to fp32
 * (value = (code − zero_point) × scale, per block of K), the packed initializers dropped.
 *
 * Measured reason (issue 12; docs/performance.md, "q4 on WASM"): ORT-web's WASM build has no
 * MLAS 4-bit GEMM kernels, so MatMulNBits falls back to dequantizing the whole weight into a
 * temporary buffer on every call: a 106M-parameter model decoded q4 at 2.7/5.3 tok/s (1/2 threads)
 * against 42.7 tok/s for fp32 in the same browser and 55–73 natively (ratio 0.05–0.07). The
 * dequantized MatMul runs the fp32 kernels (bandwidth-bound, the same speed as the fp32 model:
 * figures in performance.md), and the numbers are those MatMulNBits computes (fp32 dequantization
 * then an fp32 GEMM), so greedy output matches the unconverted model (tests/e2e/scale-parity.test.ts).
 * The cost is memory: 4 bytes a weight in the session instead of ~0.56; `maxOutputBytes` bounds it.
 */
import { fields, int64s, str, Writer, WIRE_LEN, type Field } from '../lib/protobuf';
import { externalizeTensor, externalRef } from './external-data';

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
const FLOAT = 1;
const UINT8 = 2;

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
  /** fp32 weight bytes the rewrite adds (or would add). */
  fp32Bytes: number;
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

/** Rows of W^T dequantized at a time before they are written into W's columns (cache-friendly transpose). */
const TILE = 64;

// One tile buffer for every node (one per call was a fresh allocation each time: 211 of them for
// the 135M shape, each first-touched).
let tile: Float32Array | null = null;
function tileBuffer(n: number): Float32Array {
  if (!tile || tile.length < n) tile = new Float32Array(n);
  return tile;
}

/** W [K, N] row-major fp32 from MatMulNBits' B [N, K/bs, bs/2] (low nibble first), scales and zero points. */
export function dequantize(
  p: Pick<Plan, 'K' | 'N' | 'blockSize' | 'scales' | 'zeroPoints'> & { b: { data: Uint8Array | null } },
  W: Float32Array<ArrayBufferLike> = new Float32Array(p.K * p.N),
  at = 0,
): Float32Array<ArrayBufferLike> {
  const { K, N, blockSize: bs, scales, zeroPoints } = p;
  const B = p.b.data!;
  const nb = Math.ceil(K / bs);
  const half = bs / 2;
  const padded = nb * bs;
  const zpRow = Math.ceil(nb / 2);
  // Measured: writing W column by column straight from B took 5.5 s for a 16M-parameter model
  // (every store a cache miss once N is the vocabulary); TILE rows of W^T first, then the columns.
  const tile = tileBuffer(TILE * padded);
  const lut = new Float32Array(16);
  for (let n0 = 0; n0 < N; n0 += TILE) {
    const rows = Math.min(TILE, N - n0);
    for (let r = 0; r < rows; r++) {
      const n = n0 + r;
      let o = r * padded;
      for (let blk = 0; blk < nb; blk++) {
        const scale = scales[n * nb + blk]!;
        const zp = zeroPoints ? (zeroPoints[n * zpRow + (blk >> 1)]! >> ((blk & 1) * 4)) & 15 : 8;
        for (let c = 0; c < 16; c++) lut[c] = (c - zp) * scale;
        const base = (n * nb + blk) * half;
        for (let j = 0; j < half; j++) {
          const byte = B[base + j]!;
          tile[o++] = lut[byte & 15]!;
          tile[o++] = lut[byte >> 4]!;
        }
      }
    }
    for (let k = 0; k < K; k++) {
      const w = at + k * N + n0;
      for (let r = 0; r < rows; r++) W[w + r] = tile[r * padded + k]!;
    }
  }
  return W;
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

function nodeProto(op: string, inputs: string[], output: string, name: string): Writer {
  const w = new Writer();
  for (const i of inputs) w.string(NODE_INPUT, i);
  return w.string(NODE_OUTPUT, output).string(NODE_NAME, name).string(NODE_OP, op);
}

/**
 * Rewrites the MatMulNBits nodes of the ONNX model in `model`; `maxOutputBytes` bounds the fp32
 * weights it may add (nothing is rewritten above it).
 */
export function rewriteQ4(model: Uint8Array, maxOutputBytes = Infinity, external: ExternalFiles | null = null): Q4RewriteResult {
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  const none = (extra: Partial<Q4RewriteResult>): Q4RewriteResult => ({ bytes: null, externalData: [], externalTensors: 0, externalBytes: 0, converted: 0, kept: 0, keptReasons: [], fp32Bytes: 0, skipped: null, ...extra });
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
  const fp32Bytes = [...plans.values()].reduce((s, p) => s + p.K * p.N * 4, 0);
  if (!plans.size) return none({ kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes });
  if (fp32Bytes > maxOutputBytes) {
    return none({ kept: nbits.length, fp32Bytes, skipped: `${Math.round(fp32Bytes / 1e6)} MB of fp32 weights would exceed the ${Math.round(maxOutputBytes / 1e6)} MB bound` });
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
  // External mode: every new weight in one buffer, dequantized now (no second copy at finish()).
  const weights = external ? new Float32Array(fp32Bytes / 4) : null;
  let weightsAt = 0;
  const scratch = { buf: null as Float32Array | null };
  let externalTensors = 0;
  let externalBytes = 0;
  for (const f of gfs) {
    const p = plans.get(f);
    if (p) {
      const wName = `${p.name}_fp32_weight`;
      const mmOut = p.bias ? `${p.output}_nobias` : p.output;
      g.bytes(GRAPH_NODE, nodeProto('MatMul', [p.a, wName], mmOut, `${p.name}_fp32`));
      if (p.bias) g.bytes(GRAPH_NODE, nodeProto('Add', [mmOut, p.bias], p.output, `${p.name}_bias`));
      const t = new Writer().int(TENSOR_DIMS, p.K).int(TENSOR_DIMS, p.N).int(TENSOR_TYPE, FLOAT).string(TENSOR_NAME, wName);
      if (external && weights) {
        dequantize(p, weights, weightsAt);
        externalRef(t, external.weightsFile, weightsAt * 4, p.K * p.N * 4);
        weightsAt += p.K * p.N;
        externalTensors++;
        externalBytes += p.K * p.N * 4;
      } else t.bytes(TENSOR_RAW, { size: p.K * p.N * 4, fill: (out: Uint8Array, at: number) => dequantizeInto(p, out, at, scratch) });
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
  const externalData = external && weights ? [{ path: external.modelFile, data: model }, { path: external.weightsFile, data: new Uint8Array(weights.buffer) }] : [];
  return { bytes: m.finish(), externalData, externalTensors, externalBytes, converted: plans.size, kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes, skipped: null };
}
