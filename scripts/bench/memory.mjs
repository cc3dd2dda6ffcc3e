/**
 * Memory per run (issue 13): `memory_peak_mb` and `memory_over_file` =
 * (peak during load and answers − the same page's footprint before Load) ÷ weights file size.
 *
 * The bare worker (harness.html, cross-origin isolated by `vite preview`) in a fresh context of a
 * Chromium started with ForceEagerMeasureMemory, so `performance.measureUserAgentSpecificMemory()`
 * (page + its workers: JS heaps, ArrayBuffers, WASM memories) answers at once instead of at the
 * next GC. The page samples it back to back from before Load to after the last answer
 * (`memory_sampled_over_file`: the largest sample); the peak is the larger of that and
 * `memory_create_over_file` (below). Samples taken across a growth of the worker's WASM heap are
 * left out: they count the shared heap once per SharedArrayBuffer still alive (memory-samples.ts
 * has the rule and its measured reason; `memory_sampled_raw_over_file` is the largest sample of all,
 * `memory_samples_dropped` how many were left out). Also reported, to explain the figure: the model worker's WASM memory after
 * load (a high-water mark: WASM memory never shrinks), the page + workers right after load and
 * after the answers (what stays), each ÷ the file. `memory_create_over_file`: the moment of
 * session creation, from the worker's own record (worker/external-weights.ts): a busy worker
 * answers the page's measurement only afterwards, so samples see that moment rarely, and then
 * with the heap counted several times. `memory_rss_over_file` (Linux): the page's renderer
 * process, its peak resident memory (VmHWM) at the end − its resident memory before Load: what
 * the operating system paid, Chromium's own allocations included, a cross-check that no sample can inflate.
 *
 *   npm run bench:memory [-- --no-build --models slm-pocket --dtypes fp32,q8 --scale-dir DIR]
 * Scale models are measured when their folders exist under .cache/scale-models (or --scale-dir):
 * nothing is generated here. `MEM_TRACE=1` prints every sample (when asked and answered, the parts
 * over 1 MiB per realm) and marks the ones left out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, PROMPT } from './browser.mjs';
import { acrossGrowth, heapGrowths, sampledPeak } from './memory-samples.ts';
import { peakWatch, rendererPids } from './touched.mjs';

const MB = 1024 * 1024;
const DTYPE_FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

export function launchForMemory() {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory'] });
}

/** Bytes of the dtype's ONNX files in a model folder (graph + external data). */
export function weightsBytes(dir, dtype) {
  const file = path.join(dir, 'onnx', DTYPE_FILE[dtype]);
  if (!fs.existsSync(file)) return null;
  const data = `${file}_data`;
  return fs.statSync(file).size + (fs.existsSync(data) ? fs.statSync(data).size : 0);
}

/** One run: load `source` as `dtype` on WASM, `answers` answers of `tokens` tokens; memory sampled throughout. */
export async function measureMemory(browser, base, { source, dtype, fileBytes, threads = 1, answers = 3, tokens = 64 }) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(new URL('harness.html', base).href);
    await page.waitForSelector('body[data-harness=ready]');
    const measured = await page.evaluate(() => typeof performance.measureUserAgentSpecificMemory === 'function' && crossOriginIsolated);
    if (!measured) throw new Error('measureUserAgentSpecificMemory is not available (is the page cross-origin isolated?)');
    // The probe worker exists before Load in the app too: the footprint before Load includes it.
    await page.evaluate(() => window.slmHarness.probe());
    const baseline = await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
    const rss = peakWatch(await rendererPids(browser));
    const trace = Boolean(process.env.MEM_TRACE);
    const t0 = await page.evaluate(() => performance.timeOrigin + performance.now());
    // Wall-clock times (timeOrigin + now) on both sides: the worker records its heap's growths the same way.
    await page.evaluate((withParts) => {
      const w = window;
      w.__mem = { samples: [], run: true };
      void (async () => {
        while (w.__mem.run) {
          const askedAt = performance.timeOrigin + performance.now();
          const r = await performance.measureUserAgentSpecificMemory();
          const answeredAt = performance.timeOrigin + performance.now();
          const parts = withParts ? r.breakdown.filter((b) => b.bytes > 1048576).map((b) => `${b.types.join('+')}:${b.attribution.map((a) => a.scope).join('/')}:${Math.round(b.bytes / 1048576)}`).join(' ') : '';
          w.__mem.samples.push({ askedAt, answeredAt, bytes: r.bytes, parts });
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
    }, trace);
    const info = await page.evaluate((o) => window.slmHarness.load(o), { source, dtype, device: 'wasm', threads, warmup: null });
    const afterLoad = await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
    const answerSpans = [];
    let heap = info.wasmHeapBytes;
    for (let i = 0; i < answers; i++) {
      const a = await page.evaluate(async ([msgs, n]) => {
        const from = performance.timeOrigin + performance.now();
        const r = await window.slmHarness.generate(msgs, { maxNewTokens: n, minNewTokens: n, greedy: true });
        return { from, to: performance.timeOrigin + performance.now(), heap: r.metrics.memoryPeakBytes ?? null };
      }, [PROMPT, tokens]);
      answerSpans.push({ from: a.from, to: a.to, heapBefore: heap, heapAfter: a.heap });
      heap = a.heap;
    }
    const afterAnswers = await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes);
    const samples = await page.evaluate(async () => {
      window.__mem.run = false;
      return window.__mem.samples;
    });
    const growths = heapGrowths(info.sessionMemory?.heapGrowthsAt ?? [], answerSpans);
    const sp = sampledPeak(samples, growths);
    const rr = rss.stop();
    if (trace) {
      const growthsAt = info.sessionMemory?.heapGrowthsAt ?? [];
      const ms = (t) => Math.round(t - t0);
      const across = acrossGrowth(samples, growths);
      samples.forEach((s, i) => console.error(`[mem-trace] +${ms(s.answeredAt)} ms (asked +${ms(s.askedAt)}) ${Math.round(s.bytes / MB)} MiB ${s.parts}${across[i] ? '  <- across a heap growth: left out' : ''}`));
      console.error(`[mem-trace] heap grew at ${growthsAt.map((t) => `+${ms(t)}`).join(' ') || '-'} ms; load: download ${Math.round(info.downloadMs)} ms, session ${Math.round(info.sessionCreateMs)} ms, rewrite ${info.weightRewrite ? Math.round(info.weightRewrite.ms) : '-'} ms`);
      if (rr) console.error(`[mem-trace] renderer RSS before Load ${Math.round(rr.baseBytes / MB)} MiB, VmHWM at the end ${Math.round(rr.hwmBytes / MB)} MiB`);
    }
    const top = Math.max(sp.peak, afterLoad, afterAnswers);
    const over = (b) => (b === null ? null : Math.round((b / fileBytes) * 100) / 100);
    // The moment the samples (almost) never see: while ONNX Runtime creates the session the worker
    // is busy and answers the page's measurement only afterwards, when the model bytes it held are
    // garbage (a collection during creation can take one, which then counts the heap several times
    // over and is left out above). Then: the heap right after creation + the model bytes JavaScript held (the file, the small
    // graph, a q4 rewrite's fp32 weights) + the JavaScript the page and workers hold after load (heap excluded).
    const sm = info.sessionMemory;
    const createPeak =
      sm && sm.heapAfterCreateBytes !== null && info.wasmHeapBytes !== null
        ? sm.heapAfterCreateBytes + sm.heldBytes + Math.max(0, afterLoad - baseline - info.wasmHeapBytes)
        : null;
    const peakAbove = Math.max(top - baseline, createPeak ?? 0);
    return {
      memory_peak_mb: Math.round((baseline + peakAbove) / MB),
      memory_over_file: over(peakAbove),
      memory_sampled_over_file: over(top - baseline),
      memory_sampled_raw_over_file: over(Math.max(sp.rawPeak, afterLoad, afterAnswers) - baseline),
      memory_samples_dropped: sp.dropped,
      memory_rss_over_file: rr ? over(rr.hwmBytes - rr.baseBytes) : null,
      // q4 on WASM runs as fp32 (src/inference/q4-rewrite.ts): its fair figure is over the weights the session holds.
      memory_over_rewritten: info.weightRewrite?.converted && sm?.externalBytes ? Math.round((peakAbove / sm.externalBytes) * 100) / 100 : null,
      memory_baseline_mb: Math.round(baseline / MB),
      memory_create_over_file: over(createPeak),
      external_weights_mb: sm ? Math.round(sm.externalBytes / MB) : null,
      memory_after_load_over_file: over(afterLoad - baseline),
      memory_after_answers_over_file: over(afterAnswers - baseline),
      wasm_heap_mb: info.wasmHeapBytes === null ? null : Math.round(info.wasmHeapBytes / MB),
      wasm_heap_over_file: over(info.wasmHeapBytes),
      memory_estimate_mb: info.memoryEstimate ? Math.round(info.memoryEstimate.wasmHeapBytes / MB) : null,
      memory_samples: samples.length,
      session_create_ms: Math.round(info.sessionCreateMs),
      file_mb: Math.round((fileBytes / MB) * 10) / 10,
    };
  } finally {
    await context.close();
  }
}

/**
 * memory_* fields of one run, in a browser of its own (started with the flag above), for the main
 * benchmark's rows. A renderer that crashes (the 0.5B q4 row's memory run, now and then: 3 of its last 5
 * whole benches, once alone on 2026-11-30, none of 4 runs alone on 2026-12-02) costs one more
 * run in a fresh browser, not the row's figures; the row then says so (`memory_crashes`: Chromium's
 * own word on each crash, `Target.targetCrashed`'s termination status and the signal or exit code).
 */
export async function memoryFields(base, { source, dtype, dir, answers, tokens }, attempts = 2) {
  const fileBytes = weightsBytes(dir, dtype);
  if (fileBytes === null) return {};
  const crashes = [];
  for (let attempt = 1; ; attempt++) {
    const browser = await launchForMemory();
    let crash = null;
    try {
      const cdp = await browser.newBrowserCDPSession();
      cdp.on('Target.targetCrashed', (e) => {
        crash = { status: e.status, code: e.errorCode, signal: SIGNALS[e.errorCode] ?? null };
      });
      await cdp.send('Target.setDiscoverTargets', { discover: true });
      const fields = await measureMemory(browser, base, { source, dtype, fileBytes, answers, tokens });
      return crashes.length ? { ...fields, memory_crashes: crashes } : fields;
    } catch (e) {
      if (!crash || attempt >= attempts) throw new Error(crash ? `${e.message.trim()} (renderer ${crash.status}, code ${crash.code}${crash.signal ? ` ${crash.signal}` : ''}; ${attempt} attempts)` : e.message);
      crashes.push({ ...crash, message: e.message.trim() });
    } finally {
      await browser.close();
    }
  }
}

/** Linux signals a renderer ends with: SIGTRAP is how Chromium and V8 stop on a failed check or when out of memory. */
const SIGNALS = { 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV' };

/** Scale-model folders already generated (scripts/models-scale.ts), newest first per shape. */
export function scaleModels(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && fs.existsSync(path.join(dir, e.name, 'config.json')))
    .map((e) => ({ name: e.name, dir: path.join(dir, e.name) }));
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename);
if (isMain) {
  const { build, preview } = await import('vite');
  const { startModelHost, MIRROR_ORG } = await import('../../tests/e2e/model-host.ts');
  const os = await import('node:os');
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? dflt : process.argv[i + 1];
  };
  const log = (...a) => console.error('[bench:memory]', ...a);
  if (!process.argv.includes('--no-build') || !fs.existsSync('dist/harness.html')) {
    log('building the app…');
    await build({ logLevel: 'warn' });
  }
  const server = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local?.[0] ?? `http://localhost:${server.httpServer.address().port}/`;
  const dtypes = arg('dtypes', 'fp32,q8,q4').split(',');
  const runs = [];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-bench-mem-'));
  const host = await startModelHost(path.resolve('public/models/slm-pocket'), root);
  try {
    for (const model of arg('models', 'slm-pocket,slm-reference').split(',')) {
      for (const dtype of dtypes) {
        const bytes = weightsBytes(path.join('public/models', model), dtype);
        if (bytes === null) continue;
        const browser = await launchForMemory();
        try {
          runs.push({ model, dtype, ...(await measureMemory(browser, base, { source: { type: 'bundled', modelId: model }, dtype, fileBytes: bytes })) });
        } finally {
          await browser.close();
        }
        log(JSON.stringify(runs.at(-1)));
      }
    }
    for (const m of scaleModels(arg('scale-dir', '.cache/scale-models'))) {
      fs.symlinkSync(path.resolve(m.dir), path.join(root, MIRROR_ORG, m.name), 'dir');
      for (const dtype of dtypes) {
        const bytes = weightsBytes(m.dir, dtype);
        if (bytes === null) continue;
        const browser = await launchForMemory();
        try {
          const source = { type: 'mirror', host: host.url, modelId: `${MIRROR_ORG}/${m.name}`, revision: 'main' };
          runs.push({ model: `scale:${m.name}`, dtype, ...(await measureMemory(browser, base, { source, dtype, fileBytes: bytes, answers: 2, tokens: 32 })) });
        } finally {
          await browser.close();
        }
        log(JSON.stringify(runs.at(-1)));
      }
    }
  } finally {
    await host.close();
    fs.rmSync(root, { recursive: true, force: true });
    await new Promise((r) => server.httpServer.close(r));
  }
  const cols = ['model', 'dtype', 'file_mb', 'memory_peak_mb', 'memory_baseline_mb', 'memory_over_file', 'memory_over_rewritten', 'memory_sampled_over_file', 'memory_sampled_raw_over_file', 'memory_samples_dropped', 'memory_rss_over_file', 'memory_create_over_file', 'memory_after_load_over_file', 'memory_after_answers_over_file', 'wasm_heap_mb', 'wasm_heap_over_file', 'memory_estimate_mb'];
  console.log(cols.join('\t'));
  for (const r of runs) console.log(cols.map((c) => r[c]).join('\t'));
  console.log(JSON.stringify({ memory_runs: runs }));
}
