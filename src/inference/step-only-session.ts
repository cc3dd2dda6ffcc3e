/**
 * The session a model gets where the int8 step runs all of it (int8-session.ts: prompts and tokens): the ONNX
 * graph's input and output names and the metadata the KV loop plans from (kv-decoder.ts `planKvDecoder`), and no
 * ONNX Runtime behind them. Why: on the step, ONNX Runtime Web's session only lent its names, yet creating it cost
 * the load a copy of every weight in its heap and, for q4, the q4 → int8 rewrite made for it (measured on the 135M
 * shape's q4 warm load: 798 ms of rewrite and 1,751 ms of session creation out of 5,543; docs/performance.md).
 * transformers.js takes it in the real session's place (it reads the names, sets `config`, calls `release`).
 */
import { fields, str, WIRE_LEN } from '../lib/protobuf';
import type { Int8LlamaDims } from './int8-llama';
import type { OrtSessionLike, OrtTensorLike, ValueMetadata } from './kv-decoder';
import { MODEL_GRAPH } from './q4-plan';

const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const VALUE_NAME = 1;

/** The names of the graph's inputs and outputs, in order. */
export function graphIoNames(model: Uint8Array): { inputs: string[]; outputs: string[] } {
  const graph = fields(model).find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graph) throw new Error('the file has no graph');
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const f of fields(model, graph.valueStart, graph.valueEnd)) {
    if ((f.no !== GRAPH_INPUT && f.no !== GRAPH_OUTPUT) || f.wire !== WIRE_LEN) continue;
    const name = fields(model, f.valueStart, f.valueEnd).find((x) => x.no === VALUE_NAME && x.wire === WIRE_LEN);
    if (name) (f.no === GRAPH_INPUT ? inputs : outputs).push(str(model, name));
  }
  return { inputs, outputs };
}

/** ONNX Runtime's description of a value of a decoder export, from its name and the model's dimensions. */
function describe(name: string, d: Int8LlamaDims): ValueMetadata {
  if (name === 'logits') return { name, isTensor: true, type: 'float32', shape: ['batch_size', 'sequence_length', d.vocab] };
  if (name.startsWith('past_key_values.') || name.startsWith('present.')) return { name, isTensor: true, type: 'float32', shape: ['batch_size', d.kvHeads, 'total_sequence_length', d.headDim] };
  return { name, isTensor: true, type: 'int64', shape: ['batch_size', 'sequence_length'] };
}

export class StepOnlySession implements OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];

  constructor(model: Uint8Array, dims: Int8LlamaDims) {
    const { inputs, outputs } = graphIoNames(model);
    this.inputNames = inputs;
    this.outputNames = outputs;
    this.inputMetadata = inputs.map((n) => describe(n, dims));
    this.outputMetadata = outputs.map((n) => describe(n, dims));
  }

  run(): Promise<Record<string, OrtTensorLike>> {
    return Promise.reject(new Error('ONNX Runtime was not started for this model: the int8 step runs it.'));
  }

  async release(): Promise<void> {}
}
