/**
 * The embedded rows of `npm run bench` (index.mjs): every embedded model × dtype, measured natively
 * (onnxruntime-node, best of 1 and 2 threads), in the app with threads Auto, in the bare worker at 1
 * and 2 threads, Auto's count against the other in pairs, the kernel floor (kernel.mjs) and memory.
 * Moved out of index.mjs on 2026-12-02 with the kernel floor added (index.mjs had reached 293 lines).
 */
import { existsSync } from 'node:fs';
import { measureApp, measureHarness } from './browser.mjs';
import { pairedAutoVsOther } from './thread-pairs.mjs';
import { nativeDecode } from './native.mjs';
import { memoryFields } from './memory.mjs';
import { decodeFields, DTYPE_FILE, graphRatio, kernelRatio, startBenchHost } from './kernel.mjs';

export async function measureEmbedded({ browser, base, models, dtypes, warmup, log, r2 }) {
  const runs = [];
  const kh = await startBenchHost();
  try {
    for (const model of models) {
      for (const dtype of dtypes) {
        const file = `public/models/${model}/onnx/${DTYPE_FILE[dtype]}`;
        if (!existsSync(file)) {
          log(`skip ${model} ${dtype}: no ${file}`);
          continue;
        }
        log(`${model} ${dtype}: native…`);
        const native = [];
        for (const threads of [1, 2]) native.push(await nativeDecode({ model, dtype, threads, tokens: 128 }));
        const nativeBest = native.reduce((a, b) => (b.decode_tps > a.decode_tps ? b : a));
        log(`${model} ${dtype}: browser, app…`);
        const app = await measureApp(browser, base, { model, dtype, warmup });
        log(`${model} ${dtype}: browser, bare worker…`);
        // The row's cold and steady figures are read at Auto's count; the other count's sitting feeds only
        // thread_gain and the unpaired Auto figure (the paired one below is the row's), so it takes one cold
        // load and 8 steady runs (6 kept) instead of 3 and 16 (10): a pocket row's bare-worker part 0.7 → 0.4 min (as the
        // scale rows since 2026-12-01's fifteenth session).
        const fullAt = [1, 2].includes(app.threads) ? app.threads : null;
        const fixed = [];
        for (const threads of [1, 2]) {
          const full = fullAt === null || threads === fullAt;
          fixed.push(await measureHarness(browser, base, { model, dtype, threads, warmup, ...(full ? {} : { coldSamples: 1, steadyRuns: 8, steadyKept: 6, warmLoad: false }) }));
        }
        const best = fixed.reduce((a, b) => (b.decode_steady > a.decode_steady ? b : a));
        const one = fixed.find((f) => f.threads === 1) ?? fixed[0];
        const auto = fixed.find((f) => f.threads === app.threads) ?? best;
        const otherThreads = fixed.find((f) => f.threads !== app.threads)?.threads ?? null;
        log(`${model} ${dtype}: Auto's ${app.threads} thread(s) against ${otherThreads}, in pairs…`);
        // 16 pairs: at a toy model's speed single pairs scatter ±30%. Measured 2026-12-01 (reference q8,
        // 2 ÷ 1 threads, 4 × 16 pairs in one sitting): medians 1.07, 1.04, 0.97, 1.04 (all 64: 1.04), where
        // the bench's 8 pairs had read 0.89 an hour before (`threads_auto_vs_best` 0.89 for a choice within 4%).
        const paired = otherThreads === null ? null : await pairedAutoVsOther(browser, base, { source: { type: 'bundled', modelId: model }, dtype, warmup, auto: app.threads, other: otherThreads, pairs: 16 });
        log(`${model} ${dtype}: kernels…`);
        const kernel = await kernelRatio({ browser, base, host: kh.host, root: kh.root, model: { name: model, dir: `public/models/${model}` }, file: DTYPE_FILE[dtype], dtype, threads: app.threads, size: 'toy', log }).catch((e) => {
          log(`${model} ${dtype}: kernel graph failed: ${e.message}`);
          return { kernel_ratio: null };
        });
        log(`${model} ${dtype}: the model's step, bare…`);
        const graph = await graphRatio({ browser, base, host: kh.host, root: kh.root, model: { name: model, dir: `public/models/${model}` }, file: DTYPE_FILE[dtype], threads: app.threads, size: 'toy' }).catch((e) => {
          log(`${model} ${dtype}: graph floor failed: ${e.message}`);
          return null;
        });
        log(`${model} ${dtype}: memory…`);
        const memory = await memoryFields(base, { source: { type: 'bundled', modelId: model }, dtype, dir: `public/models/${model}` });
        runs.push({
          model,
          dtype,
          cross_origin_isolated: true,
          // With the same kernel floor as the scale rows' (kernel.mjs), at Auto's thread count: at this size a
          // decode step is a few tenths of a millisecond of matmuls, so per-step costs the kernel graph lacks show.
          // And the graph floor: the model's whole step bare in both runtimes, every operator the kernel graph lacks.
          ...decodeFields({ app, nativeBest, auto, kernel, graph, r2 }),
          thread_gain: r2(best.decode_steady / one.decode_steady),
          // Paired (thread-pairs.mjs); the two separate sittings' figure beside it.
          threads_auto_vs_best: r2(paired ? paired.auto_vs_best : auto.decode_steady / best.decode_steady),
          threads_auto_vs_best_unpaired: r2(auto.decode_steady / best.decode_steady),
          threads_auto_pairs: paired?.ratios ?? null,
          threads_auto_vs_best_ci: paired?.auto_vs_best_ci ?? null,
          ui_overhead: r2(app.ui_overhead),
          ui_overhead_engine: r2(app.ui_overhead_engine),
          app_decode_tps_steady: r2(app.decode_steady),
          bare_decode_tps_paired: r2(app.bare_decode_steady),
          long_tasks: app.long_tasks,
          cold_load_ms: Math.round(app.cold_load_ms),
          warm_load_ms: Math.round(app.warm_load_ms),
          time_to_first_answer_ms: app.time_to_first_answer_ms,
          time_to_first_answer_warm_ms: app.time_to_first_answer_warm_ms,
          ttft_ms: r2(app.first?.ttft_ms),
          prefill_tps: r2(app.first?.prefill_tps),
          memory_peak_mb: memory.memory_peak_mb ?? null,
          memory_over_file: memory.memory_over_file ?? null,
          ...(memory.memory_crashes ? { memory_crashes: memory.memory_crashes } : {}),
          harness: fixed.map((f) => ({ ...f, decode_cold: r2(f.decode_cold), decode_steady: r2(f.decode_steady), cold_load_ms: Math.round(f.cold_load_ms), warm_load_ms: f.warm_load_ms === null ? null : Math.round(f.warm_load_ms) })),
          kernel,
          graph,
          native: native.map((n) => ({ threads: n.threads, decode_tps: r2(n.decode_tps), generate_tps: r2(n.generate_tps), kv_loop_tps: r2(n.kv_loop_tps) })),
        });
      }
    }
  } finally {
    await kh.close();
  }
  return runs;
}
