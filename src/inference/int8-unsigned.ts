/**
 * A model's `MatMulInteger` weights made unsigned: int8 weights w and zero points z become uint8
 * w + 128 and z + 128 (one bit flipped per byte), so every product (a − a_zp)(w − z) and every
 * answer stays exactly the same. The reference server applies it to each session it creates on
 * onnxruntime-node (server/ort-node.ts).
 *
 * Why: ONNX Runtime's CPU kernels (MLAS) multiply uint8 activations by int8 weights with VPMADDUBSW
 * on x86 CPUs without VNNI (AVX2, AVX-512 without VNNI). It adds each pair of u8 × s8 products in a
 * saturating 16-bit lane, and 2 × 255 × 127 = 64,770 > 32,767: some dot products are clipped, so
 * the answers depend on the CPU. A uint8 × uint8 product is widened to 16 bits first and summed in
 * 32 bits: exact, as ONNX Runtime Web's WASM kernels are for either type. Measured on an AMD EPYC
 * (AVX2, no VNNI), the embedded q8 models against ONNX Runtime Web's WASM in Node: first-step logits
 * off by up to 2.9 (slm-pocket) and 1.05 (slm-reference) with int8 weights, 2e-6 and 0.11 with
 * uint8; one of slm-pocket's 7 parity answers differed with int8 weights, none with uint8. (Hub q8
 * models are mostly made with uint8 weights already; `tools/slm` makes int8 ones, and any int8 model
 * a user serves has them.)
 */
import { fields, str, Writer, type Field } from '../lib/protobuf';
import { GRAPH_INITIALIZER, GRAPH_NODE, INT8, MODEL_GRAPH, NODE_ATTR, NODE_DOMAIN, NODE_INPUT, NODE_OP, readTensor, TENSOR_LOCATION, TENSOR_NAME, TENSOR_RAW, TENSOR_TYPE, UINT8, type Tensor } from './q4-plan';

// GraphProto fields that declare a value's type by name (ValueInfoProto: name is field 1).
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const VALUE_INFO_NAME = 1;
// AttributeProto fields holding subgraphs (If, Loop, Scan bodies), which may read an outer initializer by name.
const ATTR_GRAPH = 6;
const ATTR_GRAPHS = 11;

/** The zero point given to a converted node that had none (int8 zero point 0 → uint8 128). */
export const UNSIGNED_ZERO_POINT = 'slm_uint8_zero_point_128';

export interface UnsignedResult {
  /** The rewritten model; null when no node was converted. */
  bytes: Uint8Array | null;
  /** MatMulInteger nodes whose weights are now uint8. */
  converted: number;
  /** MatMulInteger nodes with int8 weights left as they are, and why (first few). */
  kept: number;
  keptReasons: string[];
}

interface MatMulInteger {
  field: Field;
  inputs: string[];
}

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';

/** Why the int8 initializer `name` cannot be flipped in place, or null when it can. */
function initializerBlocker(name: string, t: Tensor | undefined, declared: Set<string>): string | null {
  if (!t) return `${name} is not an initializer`;
  if (t.type !== INT8) return null;
  if (!t.data) return `${name} has no raw data`;
  if (declared.has(name)) return `${name} is declared as a graph input or value`;
  return null;
}

export function unsignedInt8Weights(model: Uint8Array): UnsignedResult {
  const none = (kept: number, keptReasons: string[]): UnsignedResult => ({ bytes: null, converted: 0, kept, keptReasons });
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH);
  if (!graph) return none(0, []);
  const gfs = fields(model, graph.valueStart, graph.valueEnd);
  const inits = new Map<string, Tensor>();
  const declared = new Set<string>();
  let external = false;
  const nodes: MatMulInteger[] = [];
  /** Every node input by name: the MatMulInteger it feeds and at which slot, or null for any other node. */
  const uses = new Map<string, { node: MatMulInteger | null; slot: number }[]>();
  for (const f of gfs) {
    if (f.no === GRAPH_INITIALIZER) {
      const { name, t } = readTensor(model, f);
      inits.set(name, t);
      external ||= fields(model, f.valueStart, f.valueEnd).some((x) => x.no === TENSOR_LOCATION && x.varint === 1);
    } else if (f.no === GRAPH_INPUT || f.no === GRAPH_OUTPUT || f.no === GRAPH_VALUE_INFO) {
      const n = fields(model, f.valueStart, f.valueEnd).find((x) => x.no === VALUE_INFO_NAME);
      if (n) declared.add(str(model, n));
    } else if (f.no === GRAPH_NODE) {
      const nfs = fields(model, f.valueStart, f.valueEnd);
      const op = nfs.find((x) => x.no === NODE_OP);
      const domain = nfs.find((x) => x.no === NODE_DOMAIN);
      const inputs = nfs.filter((x) => x.no === NODE_INPUT).map((x) => str(model, x));
      // A subgraph's reads are not walked here: leave such a model as it is.
      if (nfs.some((x) => x.no === NODE_ATTR && fields(model, x.valueStart, x.valueEnd).some((a) => a.no === ATTR_GRAPH || a.no === ATTR_GRAPHS))) return none(0, ['the graph has subgraphs']);
      const mmi = op && str(model, op) === 'MatMulInteger' && (!domain || isDefaultDomain(str(model, domain))) ? { field: f, inputs } : null;
      if (mmi) nodes.push(mmi);
      inputs.forEach((name, slot) => {
        if (!name) return;
        const list = uses.get(name) ?? [];
        list.push({ node: mmi, slot });
        uses.set(name, list);
      });
    }
  }
  // Nodes whose weights are int8 initializers (the only ones this is about), and which of them can
  // be converted: a weight or zero point shared with a node that cannot be converted, or read by any
  // other node or slot, keeps every node that reads it as it is (until nothing changes).
  const reasons = new Map<MatMulInteger, string>();
  const candidates = nodes.filter((n) => inits.get(n.inputs[1] ?? '')?.type === INT8);
  // Its weights live in other files, which ONNX Runtime finds beside the model's path: the caller
  // could not hand over rewritten bytes instead of that path.
  if (external) return none(candidates.length, candidates.length ? ['the model keeps its weights in external data'] : []);
  for (const n of candidates) {
    const [, b = '', , zp = ''] = n.inputs;
    const why = initializerBlocker(b, inits.get(b), declared) ?? (zp ? initializerBlocker(zp, inits.get(zp), declared) : null);
    if (why) reasons.set(n, why);
    else if (zp && inits.get(zp)?.type !== INT8) reasons.set(n, `${zp} is not int8`);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of candidates) {
      if (reasons.has(n)) continue;
      const [, b = '', , zp = ''] = n.inputs;
      for (const [name, slot] of [[b, 1], [zp, 3]] as const) {
        if (!name) continue;
        const other = uses.get(name)!.find((u) => u.slot !== slot || !u.node || reasons.has(u.node) || !candidates.includes(u.node));
        if (other) {
          reasons.set(n, `${name} is shared with a node that keeps int8`);
          changed = true;
          break;
        }
      }
    }
  }
  const converted = candidates.filter((n) => !reasons.has(n));
  const keptReasons = [...new Set(reasons.values())].slice(0, 3);
  if (converted.length === 0) return none(reasons.size, keptReasons);
  // The initializers' own fields (read once above), not their names read again.
  const flip = new Set<Field>();
  for (const n of converted) for (const name of [n.inputs[1], n.inputs[3]]) if (name) flip.add(inits.get(name)!.field);
  const byNode = new Map(converted.map((n) => [n.field, n]));
  let addZeroPoint = false;
  const g = new Writer();
  for (const f of gfs) {
    const n = byNode.get(f);
    if (n && !n.inputs[3]) {
      g.bytes(GRAPH_NODE, withInputs(model, f, [n.inputs[0] ?? '', n.inputs[1] ?? '', n.inputs[2] ?? '', UNSIGNED_ZERO_POINT]));
      addZeroPoint = true;
    } else if (flip.has(f)) g.bytes(GRAPH_INITIALIZER, flipped(model, f));
    else g.raw(model.subarray(f.start, f.end));
  }
  if (addZeroPoint) g.bytes(GRAPH_INITIALIZER, new Writer().int(TENSOR_TYPE, UINT8).string(TENSOR_NAME, UNSIGNED_ZERO_POINT).bytes(TENSOR_RAW, Uint8Array.of(128)));
  const m = new Writer();
  for (const f of top) {
    if (f === graph) m.bytes(MODEL_GRAPH, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return { bytes: m.finish(), converted: converted.length, kept: reasons.size, keptReasons };
}

/** The node in `f` with `inputs` in place of its own; its other fields as they are. */
function withInputs(model: Uint8Array, f: Field, inputs: string[]): Writer {
  const w = new Writer();
  for (const i of inputs) w.string(NODE_INPUT, i);
  for (const x of fields(model, f.valueStart, f.valueEnd)) if (x.no !== NODE_INPUT) w.raw(model.subarray(x.start, x.end));
  return w;
}

/** The int8 initializer in `f` as uint8: type UINT8, each byte + 128 (its top bit flipped). */
function flipped(model: Uint8Array, f: Field): Writer {
  const w = new Writer();
  for (const x of fields(model, f.valueStart, f.valueEnd)) {
    if (x.no === TENSOR_TYPE) w.int(TENSOR_TYPE, UINT8);
    else if (x.no === TENSOR_RAW) {
      const raw = model.subarray(x.valueStart, x.valueEnd);
      w.bytes(TENSOR_RAW, { size: raw.length, fill: (out: Uint8Array, at: number) => {
        out.set(raw, at);
        flipTopBits(out, at, at + raw.length);
      } });
    } else w.raw(model.subarray(x.start, x.end));
  }
  return w;
}

/**
 * Flips the top bit of every byte in `buf[from, to)`, four bytes at a time where aligned. Measured on
 * the 135M-shape q8 model (250 MB, 211 MatMulInteger): the whole rewrite 0.85–0.89 s a byte at a
 * time, 0.34–0.44 s so (0.21–0.23 s of it the copy into the new buffer).
 */
function flipTopBits(buf: Uint8Array, from: number, to: number): void {
  let i = from;
  while (i < to && (buf.byteOffset + i) % 4 !== 0) buf[i++]! ^= 0x80;
  const words = Math.floor((to - i) / 4);
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j++) w[j]! ^= 0x80808080;
    i += words * 4;
  }
  while (i < to) buf[i++]! ^= 0x80;
}
