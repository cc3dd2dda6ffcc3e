/**
 * The int8 decode step's reading side (int8-session.ts runs it): which ONNX models it can take, and their
 * weights. It takes a Llama or Qwen2 decoder (Qwen2: biases on q, k and v) in tools/slm's layouts, the torch
 * exporter's graph with each projection i = 7 · layer + q, k, v, o, gate, up, down, then the LM head:
 * - q8 (tools/slm/quantize.py): `q8_{i}_W_quantized` int8 [K][N] with zero point 0 and one scale per column;
 * - q4: `q4_{i}_MatMulNBits`, made int8 [K][N] with one scale per column by the q4 → int8 kernel (q4-int8.ts),
 *   byte for byte the weights the app's q4 → int8 rewrite gives ONNX Runtime (q4-rewrite.ts), so the step
 *   computes what the rewritten graph does (where the step reads a model, no rewrite runs: there is no ONNX
 *   Runtime session to rewrite it for; step-only-session.ts).
 * The RMSNorm weights come through the exporter's node names (reached through Identity nodes), the rotary
 * inverse frequencies from the Constant multiplied by the positions before Cos. Anything else gets a reason, and
 * the model runs on ONNX Runtime Web alone. Pure but for the q4 kernel's WebAssembly: bytes and config in,
 * views and copies out.
 */
import { fields, str, WIRE_LEN, type Field } from '../lib/protobuf';
import { createInt8Quantizer, type Int8Quantizer } from './q4-int8';
import { floats, GRAPH_INITIALIZER, GRAPH_NODE, INT8, FLOAT, MODEL_GRAPH, NODE_ATTR, NODE_INPUT, NODE_NAME, NODE_OP, NODE_OUTPUT, planNode, readTensor, type Tensor } from './q4-plan';

const ATTR_T = 5;

export interface Int8Matrix {
  /** Rows (the input size) and columns (the output size) as MatMulInteger's B holds them. */
  K: number;
  N: number;
  /** int8 [K][N] and its f32 column scales [N]: views of the model's bytes (q8), or made when asked (q4, one at a time). */
  read(): { w: Int8Array; scale: Float32Array };
}

export interface Int8LlamaLayer {
  ln1: Float32Array;
  ln2: Float32Array;
  q: Int8Matrix;
  k: Int8Matrix;
  v: Int8Matrix;
  o: Int8Matrix;
  gate: Int8Matrix;
  up: Int8Matrix;
  down: Int8Matrix;
  /** Qwen2's q, k and v biases (f32 [N] each), added after the projection; null for Llama. */
  bias: { q: Float32Array; k: Float32Array; v: Float32Array } | null;
}

export interface Int8LlamaDims {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  inter: number;
  vocab: number;
  layers: number;
  eps: number;
  /** Biases on q, k and v (Qwen2). */
  qkvBias: boolean;
}

export interface Int8Llama {
  dims: Int8LlamaDims;
  /** Where the int8 weights come from. */
  layout: 'q8' | 'q4';
  /** f32 [vocab][hidden], copied out of the model's bytes. */
  embed: Float32Array;
  layers: Int8LlamaLayer[];
  norm: Float32Array;
  head: Int8Matrix;
  /** The rotary inverse frequencies as the export holds them, [headDim / 2]. */
  invFreq: Float32Array;
}

interface Node {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Field[];
}

function num(config: Record<string, unknown>, key: string): number | null {
  const v = config[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The step's dimensions from a Llama or Qwen2 config, or why it does not describe one the step runs. */
export function llamaDims(config: Record<string, unknown>): Int8LlamaDims | string {
  const type = config['model_type'];
  if (type !== 'llama' && type !== 'qwen2') return `the int8 step runs Llama and Qwen2 decoders, not ${JSON.stringify(type ?? 'an unnamed model type')}`;
  if ((config['hidden_act'] ?? 'silu') !== 'silu') return `its activation is ${String(config['hidden_act'])}, not SiLU`;
  // Qwen2 always has biases on q, k and v (which the step adds); a Llama with attention_bias has them on o too.
  if ((type === 'llama' && config['attention_bias'] === true) || config['mlp_bias'] === true) return 'its projections have biases';
  if (config['use_sliding_window'] === true) return 'it attends through a sliding window';
  if (config['rope_scaling'] != null) return 'it scales its rotary positions (rope_scaling)';
  const hidden = num(config, 'hidden_size');
  const heads = num(config, 'num_attention_heads');
  const kvHeads = num(config, 'num_key_value_heads') ?? heads;
  const inter = num(config, 'intermediate_size');
  const vocab = num(config, 'vocab_size');
  const layers = num(config, 'num_hidden_layers');
  const eps = num(config, 'rms_norm_eps');
  if (!hidden || !heads || !kvHeads || !inter || !vocab || !layers || eps === null) return 'its config lacks a size the step needs';
  const headDim = num(config, 'head_dim') ?? hidden / heads;
  if (heads % kvHeads !== 0) return 'its query heads are not a multiple of its KV heads';
  if (headDim % 8 !== 0 || !Number.isInteger(headDim)) return `its head size (${headDim}) is not a multiple of 8 (the kernel rotates four pairs at a time)`;
  if (hidden % 32 !== 0 || inter % 32 !== 0 || (heads * headDim) % 32 !== 0) return 'a projection input is not a multiple of 32 wide (the kernel reads 32 bytes a step)';
  return { hidden, heads, kvHeads, headDim, inter, vocab, layers, eps, qkvBias: type === 'qwen2' };
}

function readNode(buf: Uint8Array, f: Field): Node {
  const node: Node = { name: '', op: '', inputs: [], outputs: [], attrs: [] };
  for (const x of fields(buf, f.valueStart, f.valueEnd)) {
    if (x.no === NODE_NAME) node.name = str(buf, x);
    else if (x.no === NODE_OP) node.op = str(buf, x);
    else if (x.no === NODE_INPUT) node.inputs.push(str(buf, x));
    else if (x.no === NODE_OUTPUT) node.outputs.push(str(buf, x));
    else if (x.no === NODE_ATTR) node.attrs.push(x);
  }
  return node;
}

class Refusal extends Error {}

/** The weights of `model` for the int8 step, or why it cannot take the model. */
export function readInt8Llama(model: Uint8Array, config: Record<string, unknown>): Int8Llama | { reason: string } {
  const dims = llamaDims(config);
  if (typeof dims === 'string') return { reason: dims };
  try {
    return read(model, dims);
  } catch (e) {
    if (e instanceof Refusal) return { reason: e.message };
    return { reason: `its file could not be read (${e instanceof Error ? e.message : String(e)})` };
  }
}

function read(model: Uint8Array, dims: Int8LlamaDims): Int8Llama {
  const graph = fields(model).find((f) => f.no === MODEL_GRAPH && f.wire === WIRE_LEN);
  if (!graph) throw new Refusal('the file has no graph');
  const inits = new Map<string, Tensor>();
  const nodes = new Map<string, Node>();
  const nodeFields = new Map<string, Field>();
  const byOutput = new Map<string, Node>();
  const identity = new Map<string, string>();
  for (const f of fields(model, graph.valueStart, graph.valueEnd)) {
    if (f.no === GRAPH_INITIALIZER) {
      const { name, t } = readTensor(model, f);
      inits.set(name, t);
    } else if (f.no === GRAPH_NODE) {
      const n = readNode(model, f);
      nodes.set(n.name, n);
      nodeFields.set(n.name, f);
      for (const o of n.outputs) byOutput.set(o, n);
      if (n.op === 'Identity' && n.inputs[0] && n.outputs[0]) identity.set(n.outputs[0], n.inputs[0]);
    }
  }
  const { hidden: h, heads: H, kvHeads: KVH, headDim: hd, inter, vocab: V, layers: L } = dims;
  const layout = inits.has(`q8_${7 * L}_W_quantized`) ? 'q8' : nodes.has(`q4_${7 * L}_MatMulNBits`) ? 'q4' : null;
  if (!layout) throw new Refusal(`the file is not in tools/slm's q8 or q4 layout (no q8_${7 * L}_W_quantized, no q4_${7 * L}_MatMulNBits)`);
  const tensor = (name: string, type: number, size: number): Uint8Array => {
    let n = name;
    for (let hops = 0; !inits.has(n); hops++) {
      const next = identity.get(n);
      if (next === undefined || hops > 8) throw new Refusal(`the file has no initializer ${name}`);
      n = next;
    }
    const t = inits.get(n)!;
    if (!t.data) throw new Refusal(`${name} is external data`);
    const width = type === FLOAT ? 4 : 1;
    if (t.type !== type || t.data.byteLength !== size * width) throw new Refusal(`${name} is not ${size} values of the expected type`);
    return t.data;
  };
  const f32 = (name: string, size: number) => floats(tensor(name, FLOAT, size));
  let quantizer: Int8Quantizer | null = null;
  const matrix = (i: number, K: number, N: number): Int8Matrix => {
    if (layout === 'q4') {
      const f = nodeFields.get(`q4_${i}_MatMulNBits`);
      const plan = f ? planNode(model, f, inits) : `no q4_${i}_MatMulNBits`;
      if (typeof plan === 'string') throw new Refusal(`q4_${i}: ${plan}`);
      if (plan.K !== K || plan.N !== N) throw new Refusal(`q4_${i} is ${plan.K} × ${plan.N}, not ${K} × ${N}`);
      if (plan.bias) throw new Refusal(`q4_${i} adds a bias inside the MatMulNBits`);
      return {
        K,
        N,
        read: () => {
          const w = new Int8Array(K * N);
          const scale = new Float32Array(N);
          quantizer ??= createInt8Quantizer();
          quantizer(plan, w, 0, scale);
          return { w, scale };
        },
      };
    }
    const w = tensor(`q8_${i}_W_quantized`, INT8, K * N);
    const zp = tensor(`q8_${i}_W_zero_point`, INT8, N);
    if (zp.some((z) => z !== 0)) throw new Refusal(`q8_${i} has a nonzero zero point`);
    const scale = f32(`q8_${i}_W_scale`, N);
    return { K, N, read: () => ({ w: new Int8Array(w.buffer, w.byteOffset, w.byteLength), scale }) };
  };
  const bias = (l: number) => {
    if (!dims.qkvBias) return null;
    const at = (p: 'q' | 'k' | 'v', n: number) => f32(`model.layers.${l}.self_attn.${p}_proj.bias`, n);
    return { q: at('q', H * hd), k: at('k', KVH * hd), v: at('v', KVH * hd) };
  };
  const norm = (prefix: string) => {
    const mul = nodes.get(`${prefix}/Mul_1`);
    if (!mul?.inputs[1]) throw new Refusal(`the file has no ${prefix}/Mul_1 (not the torch exporter's Llama names)`);
    return f32(mul.inputs[1], h);
  };
  const layers: Int8LlamaLayer[] = [];
  for (let l = 0; l < L; l++) {
    const i = 7 * l;
    layers.push({
      ln1: norm(`/model/layers.${l}/input_layernorm`),
      ln2: norm(`/model/layers.${l}/post_attention_layernorm`),
      q: matrix(i, h, H * hd),
      k: matrix(i + 1, h, KVH * hd),
      v: matrix(i + 2, h, KVH * hd),
      o: matrix(i + 3, H * hd, h),
      gate: matrix(i + 4, h, inter),
      up: matrix(i + 5, h, inter),
      down: matrix(i + 6, inter, h),
      bias: bias(l),
    });
  }
  return { dims, layout, embed: f32('model.embed_tokens.weight', V * h), layers, norm: norm('/model/norm'), head: matrix(7 * L, h, V), invFreq: rotary(model, byOutput, hd) };
}

/** The Constant the positions are multiplied by before `/model/Cos`: the rotary inverse frequencies. */
function rotary(model: Uint8Array, byOutput: Map<string, Node>, hd: number): Float32Array {
  let node = byOutput.get('/model/Cos_output_0');
  for (let hops = 0; node && node.op !== 'Mul' && hops < 8; hops++) node = node.inputs[0] === undefined ? undefined : byOutput.get(node.inputs[0]);
  if (!node) throw new Refusal('the file has no rotary Cos the step recognises');
  for (const input of node.inputs) {
    const c = byOutput.get(input);
    if (c?.op !== 'Constant') continue;
    for (const a of c.attrs) {
      const t = fields(model, a.valueStart, a.valueEnd).find((x) => x.no === ATTR_T);
      if (!t) continue;
      const { t: tensor } = readTensor(model, t);
      if (tensor.type === FLOAT && tensor.data && tensor.data.byteLength === (hd / 2) * 4) return floats(tensor.data);
    }
  }
  throw new Refusal('the file has no rotary frequencies of the head size');
}
