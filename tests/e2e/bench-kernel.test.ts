/**
 * The benchmark's kernel floor (scripts/bench/kernel.mjs `kernelRatio`, issue 12's `kernel_ratio`) on the
 * embedded models, as the bench's embedded rows read it since 2026-12-02: tools/slm/kernel_graph.py cuts
 * the model's weight matmuls into a bare graph, the harness's kernel worker runs it in ONNX Runtime Web
 * and onnxruntime-node runs it here, paired over three rounds. The scale rows' path is the same code;
 * tests/e2e/scale-parity.test.ts runs the CI shape's graphs in the kernel worker.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DTYPE_FILE, graphRatio, kernelRatio, startBenchHost } from '../../scripts/bench/kernel.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MIRROR_ORG } from './model-host';
import { python } from '../../scripts/models-scale';
import { launchBrowser, openPage } from './browser';
import { relaxedSimdProbe, stepShapes } from '../../scripts/bench/relaxed-simd.mjs';

const appUrl = inject('appUrl');
let browser: Browser;
let bench: Awaited<ReturnType<typeof startBenchHost>>;
let dir: string;

beforeAll(async () => {
  bench = await startBenchHost();
  dir = path.join(bench.root, MIRROR_ORG, 'kernels-keep');
  fs.mkdirSync(dir, { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await bench?.close();
});

describe('the bench kernel floor on an embedded model', () => {
  it.each(['fp32', 'q8'] as const)('times the %s graph in both runtimes, three paired rounds', async (dtype) => {
    const logs: string[] = [];
    const k = await kernelRatio({
      browser, base: appUrl, host: bench.host, root: bench.root,
      model: { name: 'slm-pocket', dir: 'public/models/slm-pocket' }, file: DTYPE_FILE[dtype], dtype, threads: 1, size: 'toy',
      log: (l: string) => logs.push(l),
    });
    expect(logs).toEqual([]);
    expect(k.kernel_web_ms).toHaveLength(3);
    expect(k.kernel_node_ms).toHaveLength(3);
    for (const ms of [...(k.kernel_web_ms ?? []), ...(k.kernel_node_ms ?? [])]) expect(ms).toBeGreaterThan(0);
    // A ratio, not a constant: node ÷ web of the same rounds.
    expect(k.kernel_ratio).toBeGreaterThan(0);
    expect(k.kernel_ratio).toBeLessThan(20);
    expect(k.prefill_kernel_ratio).toBeNull();
    // One session a runtime for the three rounds: each made once, its creation timed.
    expect(k.kernel_session_ms?.web).toBeGreaterThan(0);
    expect(k.kernel_session_ms?.node).toBeGreaterThan(0);
  });

  it("the harness's kernel worker keeps its session: runs of different row counts on it, a clear error without one", async () => {
    const { context, page } = await openPage(browser, `${appUrl}harness.html`);
    try {
      await page.waitForSelector('body[data-harness=ready]');
      const before = await page.evaluate(() => window.slmHarness.kernelRun(0, 1).then(() => 'ran', (e: Error) => e.message));
      expect(before).toBe('kernelRun before kernelOpen');
      const r = spawnSync(python(), ['tools/slm/kernel_graph.py', 'public/models/slm-pocket/onnx/model.onnx', path.join(dir, 'kernel-keep.onnx')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const url = `${bench.host.url}${MIRROR_ORG}/kernels-keep/resolve/main/kernel-keep.onnx`;
      const opened = await page.evaluate(([u]) => window.slmHarness.kernelOpen(u, 1), [url] as const);
      expect(opened.sessionMs).toBeGreaterThan(0);
      const step = await page.evaluate(() => window.slmHarness.kernelRun(2, 3));
      const prompt = await page.evaluate(() => window.slmHarness.kernelRun(1, 2, 128));
      expect(step.ms).toHaveLength(3);
      expect(prompt.ms).toHaveLength(2);
      // 128 rows a run do 128 steps' matmul work: slower than one row's, on the same session.
      expect(Math.min(...prompt.ms)).toBeGreaterThan(Math.min(...step.ms));
      await page.evaluate(() => window.slmHarness.kernelClose());
      const after = await page.evaluate(() => window.slmHarness.kernelRun(0, 1).then(() => 'ran', (e: Error) => e.message));
      expect(after).toBe('kernelRun before kernelOpen');
    } finally {
      await context.close();
    }
  });

  it("times the model's whole step bare in both runtimes (the graph floor), three paired rounds", async () => {
    const g = await graphRatio({
      browser, base: appUrl, host: bench.host, root: bench.root,
      model: { name: 'slm-pocket', dir: 'public/models/slm-pocket' }, file: DTYPE_FILE.fp32, threads: 1, size: 'toy',
    });
    expect(g.graph_past).toBe(80);
    // ORT-web's runs write into reused buffers, as the app's loop (a Vite build carries the hook).
    expect(g.graph_pooled).toBe(true);
    expect(g.graph_web_ms).toHaveLength(3);
    expect(g.graph_node_ms).toHaveLength(3);
    expect(g.graph_ratios).toHaveLength(3);
    for (const ms of [...g.graph_web_ms, ...g.graph_node_ms]) expect(ms).toBeGreaterThan(0);
    expect(g.graph_ratio).toBeGreaterThan(0);
    expect(g.graph_ratio).toBeLessThan(20);
    expect(g.graph_session_ms.web).toBeGreaterThan(0);
    expect(g.graph_session_ms.node).toBeGreaterThan(0);
  });

  it("the kernel worker's step graph: a model's step, slower than its matmuls alone; one row only; a kernel graph is refused", async () => {
    const { context, page } = await openPage(browser, `${appUrl}harness.html`);
    try {
      await page.waitForSelector('body[data-harness=ready]');
      const model = `${bench.host.url}${MIRROR_ORG}/pocket-mirror/resolve/main/onnx/model.onnx`;
      const opened = await page.evaluate(([u]) => window.slmHarness.kernelOpen(u, 1, 'step'), [model] as const);
      expect(opened.pooled).toBe(true);
      const step = await page.evaluate(() => window.slmHarness.kernelRun(5, 20));
      expect(step.ms).toHaveLength(20);
      const rows = await page.evaluate(() => window.slmHarness.kernelRun(0, 1, 4).then(() => 'ran', (e: Error) => e.message));
      expect(rows).toBe("a model's step graph runs one row, not 4");
      const r = spawnSync(python(), ['tools/slm/kernel_graph.py', 'public/models/slm-pocket/onnx/model.onnx', path.join(dir, 'kernel-step.onnx')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const kernelUrl = `${bench.host.url}${MIRROR_ORG}/kernels-keep/resolve/main/kernel-step.onnx`;
      await page.evaluate(([u]) => window.slmHarness.kernelOpen(u, 1), [kernelUrl] as const);
      const matmuls = await page.evaluate(() => window.slmHarness.kernelRun(5, 20));
      // The whole step runs the matmuls and every other operator: it cannot be faster than the matmuls alone.
      const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
      expect(med(step.ms)).toBeGreaterThan(med(matmuls.ms));
      const refused = await page.evaluate(([u]) => window.slmHarness.kernelOpen(u, 1, 'step').then(() => 'opened', (e: Error) => e.message), [kernelUrl] as const);
      expect(refused).toMatch(/^the model does not fit the decode loop: the model has no input_ids\/attention_mask inputs/);
    } finally {
      await context.close();
    }
  });

  it('the int8 GEMV probe: every build exact against integer sums on every shape of a step, then timed in turn', async () => {
    // A 4-layer decoder with the scale shapes' proportions (K and N multiples of 16 and 4, as theirs are), 5 MB
    // a step: ~0.5 ms here, a few ticks of the uncoarsened-enough clock of a page that is not cross-origin isolated.
    const config = { hidden_size: 256, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 1024, num_hidden_layers: 4, vocab_size: 4096 };
    expect(stepShapes(config)).toHaveLength(4 * 7 + 1);
    const p = await relaxedSimdProbe({ browser, config, warmupMs: 0, runs: 3, rounds: 2 });
    expect(p.supported).toBe(true);
    // Each build's rows against Σ w·a in plain integers (relaxed7: on a & 127; the bare read: Σ of the words): none differs.
    expect(p.wrong).toEqual({});
    // The step's weights, in MB to two places: 4 layers of q, k, v, o, gate, up, down and the LM head.
    expect(p.weight_mb).toBe(Math.round((4 * (256 * 256 * 2 + 256 * 128 * 2 + 256 * 1024 * 3) + 256 * 4096) / 1e4) / 100);
    for (const name of ['s16_ms', 'relaxed_ms', 'relaxed7_ms', 'stream_ms'] as const) {
      expect(p[name]).toHaveLength(2);
      for (const ms of p[name]!) expect(ms).toBeGreaterThan(0);
    }
    expect(p.relaxed_over_s16).toBeGreaterThan(0);
    expect(p.s16_over_stream).toBeGreaterThan(0);
    // Shapes the kernels do not take are refused before anything runs.
    await expect(relaxedSimdProbe({ browser, config: { ...config, hidden_size: 250 } })).rejects.toThrow('the int8 GEMV probe takes K a multiple of 32 and N even, not 250x250');
  });
});
