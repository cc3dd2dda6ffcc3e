/**
 * kernel_ratio (issue 12): the floor of the WASM tax, measured in the same run as the decode ratio it
 * bounds. One decode step's weight matmuls as a bare graph (tools/slm/kernel_graph.py), run in ORT-web
 * (the harness's kernel worker: the model worker's setup, same threads; q4 rewritten as the app does)
 * and on onnxruntime-node (same threads): node ms ÷ web ms, paired A B A B over 3 rounds. The scale
 * rows (scale.mjs) and, since 2026-12-02, the embedded rows (embedded.mjs) both read it, so
 * `ratio_vs_kernel` covers every size in the bench as the issue asks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MIRROR_ORG, startModelHost } from '../../tests/e2e/model-host.ts';
import { median } from '../../src/metrics/stats.ts';
import { python } from '../models-scale.ts';
import { openHarness } from './browser.mjs';
import { nativeKernelSession } from './native.mjs';
import { coldAnswerExtraMs } from './first-touch.ts';
import { GRAPH_STEP_PAST } from '../../src/inference/step-feeds.ts';
import { runSplit } from './run-split.ts';

export const DTYPE_FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

const r2k = (x) => Math.round(x * 100) / 100;
const KERNEL_TIMEOUT_MS = 5 * 60_000;
/**
 * A pause before each half of a pair. Measured (2026-12-02, slm-reference fp32 at 1 thread, no pause, web
 * half first in every round): the native half right after the kernel worker ended read 0.33-0.56 ms a
 * step against 0.31-0.33 in a Node process of its own, and 0.77-0.86 ms in that day's bench (a
 * `kernel_ratio` of 1.71 where a quiet pairing gave 0.57-0.66): the browser was still tearing its
 * worker down on the same two cores. Since each runtime keeps one session for all rounds (kernel.worker.ts) no
 * worker ends between halves; the pause stays for the other runtime's threads to go idle.
 */
const HALF_SETTLE_MS = 500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs per round, after a warm-up of at least `warmups` runs, and `warmupMs` in a session's first round of a
 * shape. The warm-up is timed because V8 optimises ORT's WASM while it runs. Measured (2026-12-02, this AVX-512
 * machine, 3 paired rounds a figure): slm-reference at 1 thread after 50 warm-up runs (~40 ms): the
 * browser's half 0.69-1.09 ms a step for fp32 and 0.91-2.15 for q8 (`kernel_ratio` 0.46-0.47, 0.21-0.25);
 * after 1.5 s: 0.31-0.36 and 0.65-0.73 (0.97 and 0.35-0.37, two repeats each). The scale rows had 10
 * warm-up runs until then (15-30 ms at the CI shape, whose first round read 2.93 ms against 1.42-1.58
 * after it); the 135M shape at 2 threads without and with the 1.5 s: fp32 0.78 → 0.96, q8 0.25 → 0.28,
 * q4 0.35 → 0.49, so `ratio_vs_kernel` had been read against a floor too low. An embedded model's step
 * is 0.1-1 ms, so its rows time 500 runs, not 20.
 */
export const KERNEL_RUNS = {
  scale: { warmups: 10, warmupMs: 1500, runs: 20 },
  toy: { warmups: 50, warmupMs: 1500, runs: 500 },
};

/**
 * A row's decode figures, shared by the embedded and the scale rows: Auto's thread count and its note, the
 * native baseline, the bare worker's cold and steady speeds at Auto's count (`auto`), their ratios, and
 * the kernel floor with the steady ratio over it (and the graph floor's, `graph`, where measured).
 */
export function decodeFields({ app, nativeBest, auto, kernel, graph = null, r2 }) {
  const ratioSteady = auto.decode_steady / nativeBest.decode_tps;
  return {
    threads: app.threads,
    // The app's own account of Auto's choice (its pairs, and how many rounds it took).
    threads_note: app.threads_note,
    native_threads: nativeBest.threads,
    native_decode_tps: r2(nativeBest.decode_tps),
    browser_decode_tps_cold: r2(auto.decode_cold),
    browser_decode_tps_steady: r2(auto.decode_steady),
    ratio_cold: r2(auto.decode_cold / nativeBest.decode_tps),
    // The same cold speed as time a user waits: the first answer's extra ms over the steady speed (first-touch.ts).
    cold_answer_extra_ms: r2(coldAnswerExtraMs(auto.decode_cold, auto.decode_steady)),
    ratio_steady: r2(ratioSteady),
    kernel_ratio: r2(kernel.kernel_ratio),
    ratio_vs_kernel: r2(kernel.kernel_ratio ? ratioSteady / kernel.kernel_ratio : null),
    // The graph floor (graphRatio), where the row measured it: the model's whole step run bare.
    ...(graph ? { graph_ratio: r2(graph.graph_ratio), ratio_vs_graph: r2(graph.graph_ratio ? ratioSteady / graph.graph_ratio : null) } : {}),
    // ONNX Runtime's part of a token and the loop's own, in the same runs (run-split.ts).
    ...runSplit(nativeBest, auto),
  };
}

/**
 * The bench's hub-like host (tests/e2e/model-host.ts) on a folder of its own: the scale models are
 * linked into it, kernelRatio writes its graphs under it. `{ host, root, close }`.
 */
export async function startBenchHost() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-bench-host-'));
  const host = await startModelHost(path.resolve('public/models/slm-pocket'), root);
  const close = async () => {
    await host.close();
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { host, root, close };
}

/**
 * A graph's paired halves: `url` in the harness's kernel worker (ORT-web) and `file` on onnxruntime-node, each
 * session made once, three rounds of A B / B A at `threads` threads; `graph` as the kernel worker takes it
 * ('kernel' or 'step'); `prefillRows`: also that many rows a run (kernel graphs only). Each half's median ms.
 */
async function pairedHalves({ browser, base, url, file, threads, graph, size, prefillRows }) {
  const { warmups, warmupMs, runs } = KERNEL_RUNS[size];
  const { context, page } = await openHarness(browser, base);
  const web = [];
  const node = [];
  const webPrefill = [];
  const nodePrefill = [];
  const sessionMs = { web: null, node: null };
  let pooled = null;
  let nodeKernel = null;
  try {
    // Bounded: a kernel worker the browser ends without an error event (seen for the 0.5B shape's
    // q4 graph, 2026-11-30) left this evaluate waiting forever and the whole bench with it.
    const bounded = (p) =>
      Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`the kernel worker gave no answer within ${KERNEL_TIMEOUT_MS / 60_000} min`)), KERNEL_TIMEOUT_MS).unref())]);
    // One session a runtime for all rounds (kernel.worker.ts says what one a call cost).
    ({ sessionMs: sessionMs.web, pooled } = await bounded(page.evaluate(([u, t, g]) => window.slmHarness.kernelOpen(u, t, g), [url, threads, graph])));
    nodeKernel = await nativeKernelSession({ file, threads, graph });
    sessionMs.node = nodeKernel.sessionMs;
    // The timed warm-up (warmupMs) is for V8's optimising, which a session's first runs of a shape
    // see: later rounds warm up by `warmups` runs only (the caches, after the other runtime's half).
    const warmed = new Set();
    const warmFor = (side, rows) => (warmed.has(`${side}:${rows}`) ? 0 : (warmed.add(`${side}:${rows}`), warmupMs));
    const webRun = async (w, n, rows) => median((await bounded(page.evaluate(([w, n, r, wm]) => window.slmHarness.kernelRun(w, n, r, wm), [w, n, rows, warmFor('web', rows)]))).ms);
    // A half: one decode step's graph, then (prefillRows) the same graph with a prompt's rows (`prefill_kernel_ratio`):
    // fewer runs, a pass takes 0.1-4 s here.
    const halves = {
      web: async () => {
        web.push(await webRun(warmups, runs, 1));
        if (prefillRows) webPrefill.push(await webRun(1, 3, prefillRows));
      },
      node: async () => {
        node.push(await nodeKernel.run({ warmups, runs, warmupMs: warmFor('node', 1) }));
        if (prefillRows) nodePrefill.push(await nodeKernel.run({ rows: prefillRows, warmups: 1, runs: 3, warmupMs: warmFor('node', prefillRows) }));
      },
    };
    // Three rounds, each half after the other has settled (HALF_SETTLE_MS), the order alternating by round.
    // Three, not two: with two the median is their mean, and one disturbed round moved 0.5B's prefill
    // figure from ~0.77 to 0.89 on 2026-12-02 (native 2,083 then 3,178 ms; the whole native prefill took 2,450).
    for (let i = 0; i < 3; i++) {
      for (const half of i % 2 ? ['node', 'web'] : ['web', 'node']) {
        await sleep(HALF_SETTLE_MS);
        await halves[half]();
      }
    }
  } finally {
    await nodeKernel?.release();
    await context.close();
  }
  return { web, node, webPrefill, nodePrefill, sessionMs, pooled };
}

// Three decimals for the toy graphs' fractions of a millisecond.
const ms3 = (x) => Math.round(x * 1000) / 1000;
const roundSessions = (s) => ({ web: s.web === null ? null : Math.round(s.web), node: s.node === null ? null : Math.round(s.node) });

/**
 * `model` ({ name, dir }): its `onnx/{file}`'s kernel graph, served by `host` from `root` (startBenchHost). `prefillRows`:
 * also the same graph with a prompt's rows (`prefill_kernel_ratio`). `size`: a key of KERNEL_RUNS.
 */
export async function kernelRatio({ browser, base, host, root, model, file, dtype, threads, prefillRows = null, size = 'scale', log }) {
  const dir = path.join(root, MIRROR_ORG, `kernels-${model.name}`);
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `kernel-${dtype}.onnx`);
  const r = spawnSync(python(), ['tools/slm/kernel_graph.py', path.join(model.dir, 'onnx', file), out], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`kernel graph failed: ${(r.stderr ?? r.error?.message ?? '').slice(-500)}`);
    return { kernel_ratio: null };
  }
  const url = `${host.url}${MIRROR_ORG}/kernels-${model.name}/resolve/main/kernel-${dtype}.onnx`;
  let h;
  try {
    h = await pairedHalves({ browser, base, url, file: out, threads, graph: 'kernel', size, prefillRows });
  } finally {
    fs.rmSync(out, { force: true });
  }
  const ratios = h.web.map((w, i) => h.node[i] / w);
  const prefillRatios = h.webPrefill.map((w, i) => h.nodePrefill[i] / w);
  return {
    kernel_ratio: median(ratios),
    kernel_web_ms: h.web.map(ms3),
    kernel_node_ms: h.node.map(ms3),
    kernel_ratios: ratios.map(r2k),
    prefill_kernel_ratio: prefillRatios.length ? median(prefillRatios) : null,
    prefill_kernel_web_ms: h.webPrefill.map(r2k),
    prefill_kernel_node_ms: h.nodePrefill.map(r2k),
    kernel_session_ms: roundSessions(h.sessionMs),
  };
}

/**
 * The graph floor (`graph_ratio`): the model's own graph, one decode step at GRAPH_STEP_PAST past positions
 * (src/inference/step-feeds.ts), run bare (a `session.run` on the same feeds, nothing else) in ORT-web and on
 * onnxruntime-node, paired as kernelRatio. It holds every operator of the model, where the kernel graph holds
 * only its weight matmuls: at a toy model's size the other operators' per-run costs are most of a step, and
 * `ratio_vs_graph` = ratio ÷ graph_ratio is what the app's loop (feeds, outputs, sampling, the stop signal, the
 * page) loses beyond ONNX Runtime running the model. `model` ({ name, dir }): its `onnx/{file}`, linked under
 * `root` for `host` to serve; a single file (the kernel worker creates the session from its bytes), so the
 * embedded rows take it and the scale rows, whose matmuls are their step, keep the kernel floor alone.
 */
export async function graphRatio({ browser, base, host, root, model, file, threads, size = 'toy' }) {
  const dir = path.join(root, MIRROR_ORG, `graphs-${model.name}`);
  fs.mkdirSync(dir, { recursive: true });
  const src = path.resolve(model.dir, 'onnx', file);
  if (fs.existsSync(`${src}_data`)) throw new Error(`the graph floor reads single-file models; ${file} has external data`);
  if (!fs.existsSync(path.join(dir, file))) fs.symlinkSync(src, path.join(dir, file));
  const url = `${host.url}${MIRROR_ORG}/graphs-${model.name}/resolve/main/${file}`;
  const h = await pairedHalves({ browser, base, url, file: src, threads, graph: 'step', size, prefillRows: null });
  const ratios = h.web.map((w, i) => h.node[i] / w);
  return {
    graph_ratio: median(ratios),
    graph_past: GRAPH_STEP_PAST,
    // Whether ORT-web's runs wrote into reused output buffers, as the app's loop does (step-feeds.ts).
    graph_pooled: h.pooled,
    graph_web_ms: h.web.map(ms3),
    graph_node_ms: h.node.map(ms3),
    graph_ratios: ratios.map(r2k),
    graph_session_ms: roundSessions(h.sessionMs),
  };
}
