/**
 * Native baseline: the same model, the same greedy fixed-length generation on onnxruntime-node on
 * this machine, two ways: transformers.js's generate(), and the worker's own KV decode loop
 * (src/engines/local/worker/kv-decoder.ts, the loop the browser runs on WASM) on the same session.
 * The baseline is the faster of the two, so browser ÷ native never flatters the browser.
 * Decode tokens/s = (n − 1) ÷ (last token − first token).
 */
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, BaseStreamer, Tensor, env } from '@huggingface/transformers';
import { kvDecoderFor } from '../../src/engines/local/worker/kv-decoder.ts';
import { median } from '../../src/metrics/stats.ts';

env.allowRemoteModels = false;
env.localModelPath = path.resolve('public/models') + '/';

class TimingStreamer extends BaseStreamer {
  prompt = true;
  times = [];
  put() {
    if (this.prompt) {
      this.prompt = false;
      return;
    }
    this.times.push(performance.now());
  }
  end() {}
}

export const BENCH_PROMPT = [{ role: 'user', content: 'What is the capital of France?' }];

/** Decode speed of `tokens` greedy tokens: the median of `repeats` runs after `warmups` runs, for each way. */
export async function nativeDecode({ model: name, dtype, threads, tokens, repeats = 10, warmups = 2 }) {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, {
    dtype,
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const inputs = tokenizer.apply_chat_template(BENCH_PROMPT, { add_generation_prompt: true, return_dict: true });
  const tps = (t) => ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  const viaGenerate = async () => {
    const s = new TimingStreamer();
    await model.generate({ ...inputs, max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false, streamer: s });
    return tps(s.times);
  };
  const { decoder, reason } = kvDecoderFor(model, (type, data, dims) => new Tensor(type, data, dims).ort_tensor, false);
  const promptIds = Array.from(inputs.input_ids.data, Number);
  const sampling = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, minNewTokens: tokens };
  const viaLoop = async () => {
    const times = [];
    await decoder.generate({ promptIds, maxNewTokens: tokens, sampling, eosTokenIds: [], onToken: () => times.push(performance.now()), shouldStop: () => false });
    return tps(times);
  };
  // The median of `repeats` runs after `warmups`: the same statistic as the browser's steady figure.
  const measure = async (fn) => {
    for (let i = 0; i < warmups; i++) await fn();
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await fn());
    return median(runs);
  };
  const generate_tps = await measure(viaGenerate);
  const kv_loop_tps = decoder ? await measure(viaLoop) : null;
  await model.dispose();
  return { threads, decode_tps: Math.max(generate_tps, kv_loop_tps ?? 0), generate_tps, kv_loop_tps, kv_loop_reason: reason };
}
