/**
 * The benchmark's kernel floor (scripts/bench/kernel.mjs `kernelRatio`, issue 12's `kernel_ratio`) on the
 * embedded models, as the bench's embedded rows read it since 2026-12-02: tools/slm/kernel_graph.py cuts
 * the model's weight matmuls into a bare graph, the harness's kernel worker runs it in ONNX Runtime Web
 * and onnxruntime-node runs it here, paired over three rounds. The scale rows' path is the same code;
 * tests/e2e/scale-parity.test.ts runs the CI shape's graphs in the kernel worker.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DTYPE_FILE, kernelRatio, startBenchHost } from '../../scripts/bench/kernel.mjs';
import { launchBrowser } from './browser';

const appUrl = inject('appUrl');
let browser: Browser;
let bench: Awaited<ReturnType<typeof startBenchHost>>;

beforeAll(async () => {
  bench = await startBenchHost();
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
  });
});
