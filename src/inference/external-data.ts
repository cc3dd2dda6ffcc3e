/**
 * An ONNX model's weights handed to ONNX Runtime Web as external data, without copying them.
 *
 * Measured reason (issue 13, docs/performance.md "Memory"): given a single-file model,
 * ONNX Runtime Web copies the whole file into its WASM heap, parses it (the protobuf's tensor
 * bytes: a second copy) and then builds the initializer tensors (a third) before it frees the first
 * two; WASM memory never shrinks, so the worker's heap stayed at 3.2 × the file. Here the graph's
 * large initializers are rewritten to point at their own bytes in the file (`data_location:
 * EXTERNAL`, `location`/`offset`/`length`), and the file itself — the buffer transformers.js already
 * holds — is mounted as that external file: the heap then gets the small graph and each tensor read
 * once, straight into its place. The q4 rewrite (q4-rewrite.ts) places its fp32 weights, written
 * into one buffer of their own, with the same references (`externalRef`, `externalizeTensor`).
 */
import { fields, Writer, WIRE_LEN, WIRE_VARINT, type Field } from '../lib/protobuf';

// ONNX field numbers (onnx.proto3).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW = 9;
const TENSOR_EXTERNAL = 13;
const TENSOR_LOCATION = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const EXTERNAL = 1;

/** The name the file is mounted under (a plain relative name: ONNX Runtime refuses paths that leave the model's folder). */
export const INLINE_WEIGHTS_PATH = 'slm-inline-weights.bin';

/**
 * Initializers smaller than this stay in the graph: an external reference costs ONNX Runtime a
 * lookup and a copy of its own, not worth it for a bias or a norm's weight (one 4 KiB page).
 */
export const MIN_EXTERNAL_BYTES = 4096;

export interface ExternalizedModel {
  /** The model without its large tensors' bytes. */
  graph: Uint8Array;
  /** Mount `data` (the caller's model buffer, not a copy) under `path`. */
  externalData: { path: string; data: Uint8Array };
  /** Initializers moved out, and their bytes. */
  tensors: number;
  bytes: number;
}

function entry(key: string, value: string): Writer {
  return new Writer().string(ENTRY_KEY, key).string(ENTRY_VALUE, value);
}

/** Appends to TensorProto `t` the fields that place its bytes at `offset`, `length` bytes, of the file mounted as `location`. */
export function externalRef(t: Writer, location: string, offset: number, length: number): Writer {
  t.bytes(TENSOR_EXTERNAL, entry('location', location)).bytes(TENSOR_EXTERNAL, entry('offset', String(offset))).bytes(TENSOR_EXTERNAL, entry('length', String(length)));
  return t.int(TENSOR_LOCATION, EXTERNAL);
}

/**
 * The initializer field `f` of `buf` with its raw_data replaced by a reference to those same bytes
 * of `buf`, mounted as `location`; null when it has no raw_data of at least `minBytes` or is
 * external already (a model that ships its own `.onnx_data`). Offsets count from the start of
 * `buf`'s own view, whatever its byteOffset.
 */
export function externalizeTensor(buf: Uint8Array, f: Field, location: string, minBytes = MIN_EXTERNAL_BYTES): { tensor: Writer; bytes: number } | null {
  const tfs = fields(buf, f.valueStart, f.valueEnd);
  const raw = tfs.find((x) => x.no === TENSOR_RAW && x.wire === WIRE_LEN);
  const external = tfs.some((x) => x.no === TENSOR_LOCATION && x.wire === WIRE_VARINT && x.varint === EXTERNAL);
  if (!raw || external || raw.valueEnd - raw.valueStart < minBytes) return null;
  const t = new Writer();
  for (const x of tfs) if (x !== raw && x.no !== TENSOR_LOCATION && x.no !== TENSOR_EXTERNAL) t.raw(buf.subarray(x.start, x.end));
  const length = raw.valueEnd - raw.valueStart;
  return { tensor: externalRef(t, location, raw.valueStart, length), bytes: length };
}

/**
 * `model` with every top-level initializer of at least `minBytes` raw bytes turned into an
 * external-data reference into `model` itself; null when there is none (or the bytes are not an
 * ONNX model this reader can walk: ONNX Runtime then gets them as they are).
 */
export function externalizeInitializers(model: Uint8Array, minBytes = MIN_EXTERNAL_BYTES, path = INLINE_WEIGHTS_PATH): ExternalizedModel | null {
  try {
    return externalize(model, minBytes, path);
  } catch {
    // Bytes this reader cannot walk (a corrupt or truncated file): ONNX Runtime reports its own error.
    return null;
  }
}

function externalize(model: Uint8Array, minBytes: number, path: string): ExternalizedModel | null {
  const top = fields(model);
  const graph = top.find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graph) return null;
  const gfs = fields(model, graph.valueStart, graph.valueEnd);
  const g = new Writer();
  let tensors = 0;
  let bytes = 0;
  for (const f of gfs) {
    if (f.no !== GRAPH_INITIALIZER || f.wire !== WIRE_LEN) {
      g.raw(model.subarray(f.start, f.end));
      continue;
    }
    const x = externalizeTensor(model, f, path, minBytes);
    if (!x) {
      g.raw(model.subarray(f.start, f.end));
      continue;
    }
    g.bytes(GRAPH_INITIALIZER, x.tensor);
    tensors++;
    bytes += x.bytes;
  }
  if (!tensors) return null;
  const m = new Writer();
  for (const f of top) {
    if (f.no === MODEL_GRAPH && f.wire === WIRE_LEN) m.bytes(MODEL_GRAPH, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return { graph: m.finish(), externalData: { path, data: model }, tensors, bytes };
}
