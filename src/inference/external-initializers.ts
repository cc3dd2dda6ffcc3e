/**
 * ONNX model bytes → a small model whose large initializers are external data that points back
 * into the original bytes, for ONNX Runtime Web's `externalData` session option (the bytes are
 * "mounted" under a file name, and ONNX Runtime copies each tensor from them straight into its
 * own buffer).
 *
 * Measured reason (issue 12, docs/scale-models.md "Speed at scale"): given one buffer, ONNX Runtime
 * Web copies all of it into the WASM heap, parses it (protobuf copies every raw_data field again),
 * then copies each initializer into its tensor: three heap copies of the weights, all first-touched
 * pages in a fresh worker. External initializers skip the first two. Measured on the 135M shape
 * (docs/scale-models.md, "Warm load, split"): WASM heap after load q4 1833 → 969 MB, q8 649 → 319,
 * fp32 1847 → 921; session creation in a fresh ORT-web (Node, same WASM, load ~3.5) q4 1.6 → 1.25 s,
 * fp32 1.75 → 1.45 s. Same bytes, so the logits are bit-identical.
 */
import { fields, Writer, WIRE_LEN, type Field } from '../lib/protobuf';

// onnx.proto3 field numbers.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW = 9;
const TENSOR_EXTERNAL = 13;
const TENSOR_LOCATION = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const EXTERNAL = 1;

/** Initializers smaller than this stay inline (not worth an external reference). */
export const EXTERNAL_MIN_BYTES = 4096;

/** A TensorProto's external-data fields: `length` bytes at `offset` of the file `location`. */
export function externalRef(t: Writer, location: string, offset: number, length: number): Writer {
  for (const [k, v] of [['location', location], ['offset', String(offset)], ['length', String(length)]] as const) {
    t.bytes(TENSOR_EXTERNAL, new Writer().string(ENTRY_KEY, k).string(ENTRY_VALUE, v));
  }
  return t.int(TENSOR_LOCATION, EXTERNAL);
}

/**
 * The initializer field `f` of `buf` with its raw_data moved out (a reference to its own bytes in
 * `buf`, mounted as `location`), or null when it has no raw_data of at least `minBytes`.
 */
export function externalizeTensor(buf: Uint8Array, f: Field, location: string, minBytes = EXTERNAL_MIN_BYTES): Writer | null {
  const tfs = fields(buf, f.valueStart, f.valueEnd);
  const raw = tfs.find((x) => x.no === TENSOR_RAW && x.wire === WIRE_LEN);
  if (!raw || raw.valueEnd - raw.valueStart < minBytes || tfs.some((x) => x.no === TENSOR_LOCATION && x.varint === EXTERNAL)) return null;
  const t = new Writer();
  for (const x of tfs) if (x !== raw) t.raw(buf.subarray(x.start, x.end));
  return externalRef(t, location, raw.valueStart, raw.valueEnd - raw.valueStart);
}

export interface Externalized {
  /** The small model, or null when no initializer was large enough (use the bytes as they are). */
  bytes: Uint8Array | null;
  /** How many initializers now live in the mounted file. */
  tensors: number;
}

/** Every top-level graph initializer of `model` of at least `minBytes` raw bytes becomes external data in `model` itself, mounted as `location`. */
export function externalizeModel(model: Uint8Array, location: string, minBytes = EXTERNAL_MIN_BYTES): Externalized {
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graph) return { bytes: null, tensors: 0 };
  const g = new Writer();
  let tensors = 0;
  for (const f of fields(model, graph.valueStart, graph.valueEnd)) {
    const t = f.no === GRAPH_INITIALIZER && f.wire === WIRE_LEN ? externalizeTensor(model, f, location, minBytes) : null;
    if (!t) {
      g.raw(model.subarray(f.start, f.end));
      continue;
    }
    tensors++;
    g.bytes(GRAPH_INITIALIZER, t);
  }
  if (!tensors) return { bytes: null, tensors: 0 };
  const m = new Writer();
  for (const f of top) {
    if (f === graph) m.bytes(MODEL_GRAPH, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return { bytes: m.finish(), tensors };
}
