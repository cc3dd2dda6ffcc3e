/**
 * The q4 rewrite's reading side (q4-rewrite.ts writes): which 4-bit `com.microsoft.MatMulNBits`
 * nodes of an ONNX model can be rewritten, into what (fp32 or int8, by the caller's bounds), and
 * which packed initializers go with them.
 */
import { fields, int64s, str, WIRE_LEN, type Field } from '../lib/protobuf';
import type { RewriteTo } from './q4-dequant';
import { q4RewriteTarget, type RewriteLimits } from '../models/dtypes';

// ONNX field numbers (onnx.proto3).
export const MODEL_GRAPH = 7;
export const GRAPH_NODE = 1;
export const GRAPH_INITIALIZER = 5;
export const NODE_INPUT = 1;
export const NODE_OUTPUT = 2;
export const NODE_NAME = 3;
export const NODE_OP = 4;
export const NODE_ATTR = 5;
export const NODE_DOMAIN = 7;
export const ATTR_NAME = 1;
export const ATTR_I = 3;
export const TENSOR_DIMS = 1;
export const TENSOR_TYPE = 2;
export const TENSOR_FLOAT_DATA = 4;
export const TENSOR_NAME = 8;
export const TENSOR_RAW = 9;
export const TENSOR_LOCATION = 14;
export const ATTR_TYPE = 20;
export const ATTR_INT = 2;
export const FLOAT = 1;
export const UINT8 = 2;
export const INT8 = 3;

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

export interface Tensor {
  dims: number[];
  type: number;
  data: Uint8Array | null;
  /** The initializer's field in the graph (to drop it). */
  field: Field;
}

export interface Plan {
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

export function readTensor(buf: Uint8Array, f: Field): { name: string; t: Tensor } {
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

export function floats(bytes: Uint8Array): Float32Array {
  // Copy: the bytes sit at any offset of the model buffer, a Float32Array view needs 4-byte alignment.
  return new Float32Array(bytes.slice().buffer);
}

/** Why `node` cannot be rewritten, or its plan. */
export function planNode(buf: Uint8Array, node: Field, inits: Map<string, Tensor>): Plan | string {
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

/** The rewrite decided: what to rewrite, into what, and what to drop. */
export interface Decided {
  top: Field[];
  graph: Field;
  gfs: Field[];
  plans: Map<Field, Plan>;
  /** The rewritten nodes in graph order (the order of their weights in a weights file). */
  order: Plan[];
  to: RewriteTo;
  dropped: Set<string>;
  kept: number;
  keptReasons: string[];
  fp32Bytes: number;
  weights: number;
}

export function noRewrite(extra: Partial<Q4RewriteResult>): Q4RewriteResult {
  return { bytes: null, externalData: [], externalTensors: 0, externalBytes: 0, converted: 0, kept: 0, keptReasons: [], fp32Bytes: 0, to: null, addedBytes: 0, skipped: null, ...extra };
}

export function decide(model: Uint8Array, limits: Partial<RewriteLimits>): Decided | Q4RewriteResult {
  const { maxFp32Bytes = Infinity, maxInt8Bytes = 0 } = limits;
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graph) return noRewrite({});
  const gfs = fields(model, graph.valueStart, graph.valueEnd);
  const nbits = gfs.filter((f) => {
    if (f.no !== GRAPH_NODE) return false;
    const nfs = fields(model, f.valueStart, f.valueEnd);
    const op = nfs.find((x) => x.no === NODE_OP);
    const dom = nfs.find((x) => x.no === NODE_DOMAIN);
    return op !== undefined && str(model, op) === 'MatMulNBits' && (!dom || str(model, dom) === 'com.microsoft');
  });
  if (!nbits.length) return noRewrite({});
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
  if (!plans.size) return noRewrite({ kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes });
  const to = q4RewriteTarget(weights, { maxFp32Bytes, maxInt8Bytes });
  if (!to) {
    const mb = (n: number) => Math.round(n / 1e6);
    return noRewrite({ kept: nbits.length, fp32Bytes, skipped: `${mb(fp32Bytes)} MB of fp32 weights would exceed the ${mb(maxFp32Bytes)} MB bound${maxInt8Bytes ? `, and ${mb(weights)} MB of int8 ones the ${mb(maxInt8Bytes)} MB one` : ''}` });
  }
  // An initializer still read by a node that stays is kept.
  const dropped = new Set<string>();
  for (const p of plans.values()) for (const d of p.drop) dropped.add(d);
  for (const f of gfs) {
    if (f.no !== GRAPH_NODE || plans.has(f)) continue;
    for (const x of fields(model, f.valueStart, f.valueEnd)) if (x.no === NODE_INPUT) dropped.delete(str(model, x));
  }
  return { top, graph, gfs, plans, order: gfs.flatMap((f) => plans.get(f) ?? []), to, dropped, kept, keptReasons: keptReasons.slice(0, 3), fp32Bytes, weights };
}
