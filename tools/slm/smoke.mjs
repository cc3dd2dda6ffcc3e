// Quick check that a model folder loads and generates with transformers.js in Node (onnxruntime-node).
// usage: node tools/slm/smoke.mjs slm-pocket [fp32|q8|q4] "prompt"
import path from 'node:path';
import { AutoTokenizer, AutoModelForCausalLM, env } from '@huggingface/transformers';
env.allowRemoteModels = false;
env.localModelPath = path.resolve(process.env.SLM_MODELS_DIR ?? 'public/models') + '/';
const [name = 'slm-pocket', dtype = 'fp32', prompt = 'What is 23 + 45?'] = process.argv.slice(2);
const tokenizer = await AutoTokenizer.from_pretrained(name);
const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu' });
const messages = [{ role: 'user', content: prompt }];
const inputs = tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true });
const t = performance.now();
const out = await model.generate({ ...inputs, max_new_tokens: 24, do_sample: false });
const ids = out.tolist()[0].map(Number);
const n = inputs.input_ids.dims[1];
console.log(JSON.stringify({ name, dtype, prompt, input_ids: ids.slice(0, n), output_ids: ids.slice(n),
  text: tokenizer.decode(ids.slice(n), { skip_special_tokens: true }), ms: Math.round(performance.now() - t) }));
