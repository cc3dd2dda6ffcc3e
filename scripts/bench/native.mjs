/**
 * Native baseline: the same model, the same greedy fixed-length generation on onnxruntime-node on
 * this machine, through the generation core (src/inference/core.ts) two ways: transformers.js's
 * generate(), and the KV decode loop (src/inference/kv-decoder.ts, the loop the browser runs on
 * WASM) on the same session. The baseline is the faster of the two, so browser ÷ native never
 * flatters the browser. Decode tokens/s = (n − 1) ÷ (last token − first token).
 */
import path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { TokenGenerator } from '../../src/inference/core.ts';
import { promptIds } from '../../src/inference/prompt.ts';
import { decodeSettings } from '../../src/inference/settings.ts';
import { DEFAULT_GENERATION } from '../../src/inference/params.ts';
import { median } from '../../src/metrics/stats.ts';
import { kvReuseBlocker } from '../../src/inference/kv-cache.ts';
import { planKvDecoder } from '../../src/inference/kv-decoder.ts';
import { decodeStepFeeds, GRAPH_STEP_PAST } from '../../src/inference/step-feeds.ts';
import { BatchingStream, IncrementalDecoder } from '../../src/inference/streamer.ts';
import { warmUp } from '../../src/engines/local/worker/warmup.ts';
import { PREFILL_PROMPT } from './prefill-prompt.mjs';
import { peakWatch, touchedBytes } from './touched.mjs';
import { runMsPerStep } from './run-split.ts';

const { AutoModelForCausalLM, AutoTokenizer, env } = transformers;
env.allowRemoteModels = false;
env.localModelPath = path.resolve('public/models') + '/';

export const BENCH_PROMPT = [{ role: 'user', content: 'What is the capital of France?' }];

/** The model folder `name` under `modelsDir` on onnxruntime-node (CPU, `threads` intra-op threads): its tokenizer and model. */
async function loadNative(name, dtype, threads, modelsDir) {
  env.localModelPath = path.resolve(modelsDir) + '/';
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForCausalLM.from_pretrained(name, { dtype, device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  return { tokenizer, model };
}

/** Decode speed of `tokens` greedy tokens: the median of `repeats` runs after `warmups` runs, for each way. */
export async function nativeDecode({ model: name, dtype, threads, tokens, repeats = 10, warmups = 2, modelsDir = 'public/models' }) {
  const { tokenizer, model } = await loadNative(name, dtype, threads, modelsDir);
  const prompt = promptIds(tokenizer.apply_chat_template(BENCH_PROMPT, { add_generation_prompt: true, return_dict: true }));
  const tps = (t) => ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  // Fixed length: end-of-sequence is ignored up to `tokens` (and the loop is given none to stop on).
  const settings = decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: tokens, minNewTokens: tokens }, null);
  // Each run's speed; a KV-loop run also notes ONNX Runtime's ms a decode step (its DecodeStats).
  const runMs = [];
  const timed = (generator) => async () => {
    const times = [];
    const r = await generator.generate(prompt, settings, { onToken: () => times.push(performance.now()), shouldStop: () => null });
    const ms = runMsPerStep(r.decodeStats);
    if (ms !== null) runMs.push(ms);
    return tps(times);
  };
  const viaGenerate = timed(new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: [], pooled: false, loop: 'generate' }));
  const loop = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: [], pooled: false });
  const viaLoop = timed(loop);
  const reason = loop.reason;
  // The median of `repeats` runs after `warmups`: the same statistic as the browser's steady figure. The two
  // paths' runs interleaved, each round's first alternating: measured one after the other in one process, the
  // path measured first was the faster (135M q8, 2 threads: generate() first 100.9 / 86.4 tok/s against the loop's
  // 78.8 / 75.5; the loop first 71.5 / 67.9 against generate()'s 67.0 / 61.7), which no path owns.
  const hasLoop = loop.loop === 'kv-loop';
  const paths = hasLoop ? [viaGenerate, viaLoop] : [viaGenerate];
  for (let i = 0; i < warmups; i++) for (const fn of paths) await fn();
  runMs.length = 0;
  const runs = paths.map(() => []);
  for (let i = 0; i < repeats; i++) {
    for (const k of i % 2 ? [1, 0] : [0, 1]) if (paths[k]) runs[k].push(await paths[k]());
  }
  const generate_tps = median(runs[0]);
  const kv_loop_tps = hasLoop ? median(runs[1]) : null;
  const kv_loop_run_ms = kv_loop_tps === null || runMs.length === 0 ? null : median(runMs);
  await model.dispose();
  return { threads, decode_tps: Math.max(generate_tps, kv_loop_tps ?? 0), generate_tps, kv_loop_tps, kv_loop_reason: reason, kv_loop_run_ms };
}

/**
 * Native prefill (issue 12, `native_prefill_tps`): PREFILL_PROMPT's tokens ÷ the time from the
 * generator's call to its first token (the worker's engine clock measures the same span), median of
 * `runs` after `warmups`, no KV cache (every run prefills the whole prompt).
 */
export async function nativePrefill({ model: name, dtype, threads, modelsDir = 'public/models', runs = 5, warmups = 1 }) {
  const { tokenizer, model } = await loadNative(name, dtype, threads, modelsDir);
  try {
    const ids = promptIds(tokenizer.apply_chat_template(PREFILL_PROMPT, { add_generation_prompt: true, return_dict: true }));
    const generator = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: [], pooled: false });
    const settings = decodeSettings({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: 1, minNewTokens: 1 }, null);
    const one = async () => {
      let first = null;
      const t0 = performance.now();
      await generator.generate(ids, settings, { onToken: () => (first ??= performance.now()), shouldStop: () => null });
      return (ids.length * 1000) / (first - t0);
    };
    for (let i = 0; i < warmups; i++) await one();
    const tps = [];
    for (let i = 0; i < runs; i++) tps.push(await one());
    return { threads, prefill_tps: median(tps), prompt_tokens: ids.length };
  } finally {
    await model.dispose();
  }
}

/**
 * Native warm load (issue 12, `native_warm_load_ms`): session creation from the files on disk (in
 * the page cache: the same cached bytes the browser's warm load reads) plus the app's own warm-up
 * (src/engines/local/worker/warmup.ts, same plan, same KV-cache settings as the worker), on
 * onnxruntime-node.
 */
export async function nativeWarmLoad({ model: name, dtype, threads, modelsDir = 'public/models', warmup }) {
  // This process's first touches in the load (touched.mjs): pages the earlier native runs freed back to
  // the allocator are reused without one, as a long-lived process would.
  const touch = peakWatch([process.pid]);
  const t0 = performance.now();
  const { tokenizer, model } = await loadNative(name, dtype, threads, modelsDir);
  const t1 = performance.now();
  const blocker = kvReuseBlocker(dtype);
  const generator = new TokenGenerator(transformers, model, { device: 'cpu', eosTokenIds: [], pooled: false, ...(blocker ? { cacheOffReason: blocker } : { cache: { maxBytes: 256 * 1024 * 1024, maxEntries: 1 }, cacheOffReason: null }) });
  const target = {
    generator,
    maxContext: null,
    template: (messages) => promptIds(tokenizer.apply_chat_template(messages, { add_generation_prompt: true, return_dict: true })),
    stream: (sink, ms) => new BatchingStream(new IncrementalDecoder((ids) => tokenizer.decode(ids, { skip_special_tokens: true })), sink, ms, () => performance.now()),
  };
  const w = await warmUp(target, warmup, false);
  const t2 = performance.now();
  const touched = touchedBytes(touch);
  await model.dispose();
  return { threads, session_ms: t1 - t0, warmup_ms: w.warmupMs, warmup_tokens: w.warmupTokens, warm_load_ms: t2 - t0, touched_bytes: touched };
}

/**
 * The kernel graph (tools/slm/kernel_graph.py) on onnxruntime-node at `threads` threads, its session
 * created once (kernel.mjs asks it for every round): `run({ rows, warmups, runs, warmupMs })` is the median ms of
 * `runs` runs of `rows` rows after `warmups` (and at least `warmupMs` of them, as the browser's half).
 * `graph` 'step': `file` is a model's own graph, run one decode step at GRAPH_STEP_PAST (src/inference/step-feeds.ts),
 * the feeds the harness's kernel worker gives ONNX Runtime Web.
 */
export async function nativeKernelSession({ file, threads, graph = 'kernel' }) {
  const ort = await import('onnxruntime-node');
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const sessionMs = performance.now() - t0;
  let feedsFor;
  if (graph === 'step') {
    const plan = planKvDecoder(session);
    if ('reason' in plan) {
      await session.release();
      throw new Error(`the model does not fit the decode loop: ${plan.reason}`);
    }
    const feeds = decodeStepFeeds(plan.layout, GRAPH_STEP_PAST, (type, data, dims) => new ort.Tensor(type, data, dims));
    feedsFor = (rows) => {
      if (rows !== 1) throw new Error(`a model's step graph runs one row, not ${rows}`);
      return feeds;
    };
  } else {
    feedsFor = (rows) => {
      const feeds = {};
      for (const n of session.inputNames) {
        const k = Number(n.slice(2));
        feeds[n] = new ort.Tensor('float32', Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i) * 0.5), [1, rows, k]);
      }
      return feeds;
    };
  }
  const run = async ({ rows = 1, warmups = 10, runs = 30, warmupMs = 0 }) => {
    const feeds = feedsFor(rows);
    const warmStart = performance.now();
    for (let i = 0; i < warmups || performance.now() - warmStart < warmupMs; i++) await session.run(feeds);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds);
      ms.push(performance.now() - t);
    }
    return median(ms);
  };
  return { threads, sessionMs, run, release: () => session.release() };
}
