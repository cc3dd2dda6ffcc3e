/** Greedy decoding straight on an ONNX Runtime session (Node or Web), for the tests that compare kernels on the embedded models. */
import type * as OrtCommon from 'onnxruntime-web';

export interface Parity { max_new_tokens: number; eos_token_id: number[]; cases: { input_ids: number[] }[] }

type Ort = { Tensor: typeof OrtCommon.Tensor };
type Session = { inputNames: readonly string[]; run(feeds: Record<string, OrtCommon.Tensor>): Promise<Record<string, OrtCommon.Tensor>> };

/**
 * Greedy ids after `prompt` without a KV cache (the whole sequence each step: these models are
 * tiny), up to `p.max_new_tokens` or an end token, and the first step's logits. `kv`, `hd`: the
 * model's KV heads and head size (its empty past).
 */
export async function greedyIds(ort: Ort, s: Session, prompt: number[], p: Parity, kv: number, hd: number): Promise<{ ids: number[]; first: Float32Array }> {
  const ids = [...prompt];
  let first: Float32Array | null = null;
  for (let step = 0; step < p.max_new_tokens; step++) {
    const L = ids.length;
    const i64 = (f: (i: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: L }, (_, i) => BigInt(f(i))), [1, L]);
    const feeds: Record<string, OrtCommon.Tensor> = { input_ids: i64((i) => ids[i]!), attention_mask: i64(() => 1), position_ids: i64((i) => i) };
    for (const n of s.inputNames) if (n.startsWith('past_key_values')) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, kv, 0, hd]);
    const logits = (await s.run(feeds))['logits']!;
    const V = logits.dims[2]!;
    const row = (logits.data as Float32Array).slice((L - 1) * V, L * V);
    first ??= row;
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    ids.push(best);
    if (p.eos_token_id.includes(best)) break;
  }
  return { ids: ids.slice(prompt.length), first: first! };
}
