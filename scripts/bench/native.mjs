/**
 * Native baseline: the same model, the same greedy fixed-length generation, through transformers.js
 * on onnxruntime-node on this machine. Decode tokens/s = (n − 1) ÷ (last token − first token).
 */
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, BaseStreamer, env } from '@huggingface/transformers';

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

/** Decode speed of `tokens` greedy tokens; the best of `repeats` runs after `warmups` runs. */
export async function nativeDecode({ model: name, dtype, threads, tokens, repeats = 3, warmups = 2 }) {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, {
    dtype,
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const inputs = tokenizer.apply_chat_template(BENCH_PROMPT, { add_generation_prompt: true, return_dict: true });
  const once = async () => {
    const s = new TimingStreamer();
    await model.generate({ ...inputs, max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false, streamer: s });
    const t = s.times;
    return ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  };
  for (let i = 0; i < warmups; i++) await once();
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await once());
  await model.dispose();
  return { threads, decode_tps: Math.max(...runs), runs };
}
