// About 450 lines: one idea, driving Chromium for the bench (contexts, the harness page and the app page, the paired reads they are compared with).
/** Headless Debian Chromium for the benchmark, and the app / harness drivers. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { settleQuiet } from './settle.ts';
import { runMsPerStep } from './run-split.ts';
import { median } from '../../src/metrics/stats.ts';
import { MODEL_CACHE, metaKey, partKey } from '../../src/models/cache.ts';
import { OPFS_DIR } from '../../src/models/opfs.ts';
import { PREFILL_PROMPT } from './prefill-prompt.mjs';
import { peakWatch, rendererPids, touchedBytes } from './touched.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export const PROMPT = [{ role: 'user', content: 'What is the capital of France?' }];

/**
 * A fresh context. `profile`: a fresh persistent profile on disk, removed on close, instead of the
 * browser's off-the-record context. Chromium keeps no code cache off the record, so only a profile
 * shows a returning user's warm load: measured (135M q8, 2 threads, the store, fresh worker per
 * load), ONNX Runtime's code came back optimised from the code cache in a profile (warm-up probe
 * 130–160 ms, not 321–385; warm load 3.4–3.6 s, not 4.0–5.1 s; ort-setup.ts `ortBinary`).
 */
export async function freshContext(browser, profile = false) {
  if (!profile) return browser.newContext();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-bench-profile-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return context;
}

/**
 * This machine's price for memory touched the first time, in the browser: a fresh 1 GiB buffer
 * filled, then filled again (median of 3 fresh contexts). A warm load touches its file, the q4
 * rewrite's weights and ONNX Runtime's heap for the first time, so on a machine that charges much
 * for it (measured here: 1.0–1.3 s a GiB against 54 ms touched again; docs/performance.md, "what
 * is left is memory touched for the first time") `warm_load_over_native` measures that price
 * times the memory each side needs as much as it measures the app.
 */
export async function firstTouchMsPerGib(browser) {
  const rounds = [];
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      rounds.push(await page.evaluate(() => {
        let t = performance.now();
        const b = new Uint8Array(1 << 30);
        b.fill(1);
        const first = performance.now() - t;
        t = performance.now();
        b.fill(2);
        return { first, again: performance.now() - t };
      }));
    } finally {
      await context.close();
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  return { first_touch_ms_per_gib: Math.round(median(rounds.map((r) => r.first))), touched_ms_per_gib: Math.round(median(rounds.map((r) => r.again))) };
}

/** A fresh context (empty HTTP cache; `profile`: see freshContext) with the harness page open. */
export async function openHarness(browser, base, profile = false) {
  const context = await freshContext(browser, profile);
  const page = await context.newPage();
  await page.goto(new URL('harness.html', base).href);
  await page.waitForSelector('body[data-harness=ready]');
  return { context, page };
}

export async function harnessLoad(page, opts) {
  return page.evaluate(async (o) => {
    const t0 = performance.now();
    const info = await window.slmHarness.load(o);
    return { info, ms: performance.now() - t0 };
  }, opts);
}

export async function harnessDecode(page, tokens) {
  const r = await page.evaluate(
    ([msgs, n]) => window.slmHarness.generate(msgs, { maxNewTokens: n, minNewTokens: n, greedy: true }),
    [PROMPT, tokens],
  );
  // The app shows no decode rate over a window under 50 ms (metrics/timing.ts: too short to mean
  // anything to a reader), and 64 tokens of the toy models fit in about that. The benchmark
  // needs the throughput anyway: over the same tokens, first token to the end of the answer.
  const m = r.metrics;
  const fallback = tailRate(m.outputTokens, m.ttftMs, m.e2eMs);
  return { ...m, shownDecodeTps: m.decodeTps, fallbackTps: fallback, decodeTps: m.decodeTps ?? fallback, engineDecodeTps: m.engineDecodeTps ?? m.decodeTps ?? fallback, runMsPerToken: runMsPerStep(r.decodeStats) };
}


/** PREFILL_PROMPT (native.mjs) prefilled whole, one token answered: the engine's metrics (`prefillTps` on the worker's clock). */
export async function harnessPrefill(page) {
  const r = await page.evaluate(([msgs]) => window.slmHarness.generate(msgs, { maxNewTokens: 1, minNewTokens: 1, greedy: true }, false), [PREFILL_PROMPT]);
  if (r.metrics.reusedInputTokens) throw new Error(`prefill run reused ${r.metrics.reusedInputTokens} tokens with reuse off`);
  return r.metrics;
}

/** Decode rate from the first token to the end of the answer: (n − 1) tokens over (end to end − TTFT). */
export function tailRate(outputTokens, ttftMs, e2eMs) {
  return ttftMs !== null && e2eMs !== null && e2eMs > ttftMs && outputTokens > 1 ? ((outputTokens - 1) * 1000) / (e2eMs - ttftMs) : null;
}

/**
 * bare ÷ app − 1 for one pair. Where either side hides its rate (under 50 ms of decoding:
 * metrics/timing.ts), both sides use tailRate, so the pair compares one formula. Before
 * (2026-11-30) a hidden app rate ("—") parsed as null, `bare / null` was Infinity and `median`
 * skips non-finite values: pocket fp32 decodes 128 tokens in ~55 ms, right at that limit, so the
 * app's faster answers dropped out of the median and only its slower ones were compared (while the
 * bare side's hidden rates fell back to the slower tail formula). Simulated with equal speeds on
 * both sides and decode windows spread over 40–70 / 35–90 / 30–110 ms: the old pairing read
 * 0.075 / 0.114 / 0.131, this one 0.000 (the runs that read 0.20–0.31 came after the 50 ms rule).
 */
export function pairOverhead(bare, app) {
  if (bare.shown !== null && app.shown !== null) return bare.shown / app.shown - 1;
  if (bare.tail === null || app.tail === null) return null;
  return bare.tail / app.tail - 1;
}

/**
 * ms for a plain read of each of `urls` in turn, in a worker of `page` (the model worker reads its
 * files in a worker too): what the browser itself takes to hand those bytes over from the same
 * cache, the floor of a warm load's read. `store` false: `fetch(url).arrayBuffer()` (the HTTP
 * cache); true: the app's own store (src/models/cache.ts: the record from Cache Storage, then its
 * OPFS file read into one buffer with one synchronous read, or each Cache Storage part's
 * `arrayBuffer()` for a record without one).
 */
export function plainRead(page, urls, store = false) {
  // The store's own key scheme: its record, and part i's key (partKey(u, i) ends in i).
  if (store) {
    const list = urls.map((u) => ({ meta: metaKey(u), part: partKey(u, 0).slice(0, -1) }));
    return timedInWorker(page, list, `const c = await caches.open(${JSON.stringify(MODEL_CACHE)});
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(${JSON.stringify(OPFS_DIR)}, { create: true });
      for (const f of e.data) { const meta = await (await c.match(f.meta)).json();
        if (meta.opfs) { const h = await (await dir.getFileHandle(meta.opfs)).createSyncAccessHandle({ mode: 'read-only' });
          const b = new Uint8Array(meta.size); n += h.read(b, { at: 0 }); h.close(); continue; }
        for (let i = 0; i < meta.parts.length; i++) n += (await (await c.match(f.part + i)).arrayBuffer()).byteLength; }`);
  }
  return timedInWorker(page, urls, 'for (const u of e.data) n += (await (await fetch(u)).arrayBuffer()).byteLength;');
}

/**
 * ms for a plain download of each of `urls` in turn, in a worker of `page`: `fetch(url, { cache:
 * 'no-store' }).arrayBuffer()` from the host (the bytes in memory, as a load needs them; the HTTP cache
 * neither read nor filled). The floor a cold load's read is compared with (`download_over_fetch`).
 */
export function plainDownload(page, urls) {
  return timedInWorker(page, urls, "for (const u of e.data) n += (await (await fetch(u, { cache: 'no-store' })).arrayBuffer()).byteLength;");
}

/**
 * Runs `body` (an async function's body over the message `e`, adding the bytes it read to `n`) in a
 * fresh worker of `page` with `data`; its ms and bytes. Built here as text: the page's function uses
 * no value from this side but what it is passed.
 */
function timedInWorker(page, data, body) {
  const src = `onmessage = async (e) => { const t = performance.now(); let n = 0; ${body} postMessage({ ms: performance.now() - t, bytes: n }); }`;
  return page.evaluate(async ([src, data]) => {
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    try {
      return await new Promise((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage(data);
      });
    } finally {
      w.terminate();
    }
  }, [src, data]);
}

/**
 * The longest a store-mode warm load waits after the previous engine is gone (settle.ts waits for
 * the machine to go quiet, up to this). Measured on the 0.5B shape (q4, 2 threads, the app's store):
 * loaded right after the previous load, its file read took 1.1–2.0 s; 8 s later, 0.81–0.87 s (the
 * 1.2 GB heap and its threads being torn down share the two cores with the read). A user's warm load
 * starts from a fresh page, without that teardown.
 */
export const SETTLE_MS = 8000;

/** Ends the harness page's engine and waits for the machine to go quiet (at most SETTLE_MS), as before a store-mode warm load: the ms waited. */
export async function disposeAndSettle(page) {
  await page.evaluate(() => window.slmHarness.dispose());
  return (await settleQuiet(SETTLE_MS)).ms;
}

/**
 * Bare worker: `coldSamples` cold loads, each in a fresh context (empty HTTP cache) with the app's
 * warm-up, and the first 64 tokens after ready ("cold", median over the samples); then, in the
 * last context, `steadyRuns` 128-token runs, of which the first `steadyRuns - steadyKept` are
 * discarded ("steady": the median of the rest); then a second load there (warm HTTP cache).
 * Medians, like the native side: on this machine single runs swing by 2x now and then.
 * `plainUrls`: the model's large files; when given, the warm load's read is paired with a plain read
 * of them (warm_parts.plain_read_ms).
 * `store`: load as the app does, through its store (the cold loads keep the files in Cache
 * Storage, the warm load reads them back from there, after the previous engine is disposed and
 * SETTLE_MS have passed), instead of the HTTP cache, each cold sample in a fresh persistent profile
 * (freshContext: Chromium's code cache, as a returning user has it). Measured on the 0.5B shape, 2
 * threads, after the pause: the store's file read 0.81–0.87 s, the HTTP cache's 2.3–2.8 s for the
 * same 862 MB (the app never reads its models from the HTTP cache on a warm load).
 * `warmLoad` false: no warm load (its fields null), for a sitting that only gives a decode speed.
 * `steadyTokens`: the steady runs' length. `then(page, fields)`: run last in the same page (its
 * result is the `then` field), e.g. another thread count loaded from the store this sitting filled.
 */
export async function measureHarness(browser, base, { model, dtype, threads, warmup, coldSamples = 3, steadyRuns = 16, steadyKept = 10, steadyTokens = 128, source = { type: 'bundled', modelId: model }, plainUrls = null, store = false, prefillRuns = 0, warmLoad = true, then = null }) {
  const colds = [];
  let open = null;
  let download = null;
  try {
    let cold = null;
    let first = null;
    for (let i = 0; i < coldSamples; i++) {
      await open?.context.close();
      open = await openHarness(browser, base, store);
      // In the first sitting's fresh context, before its load: the same bytes plainly downloaded.
      if (i === 0 && store && plainUrls) download = await plainDownload(open.page, plainUrls);
      const c = await harnessLoad(open.page, { source, dtype, device: 'wasm', threads, warmup, useBrowserCache: store });
      const f = await harnessDecode(open.page, 64);
      colds.push(f.decodeTps);
      cold ??= c;
      first ??= f;
    }
    const { page } = open;
    const steady = [];
    const steadyRun = [];
    for (let i = 0; i < steadyRuns; i++) {
      const d = await harnessDecode(page, steadyTokens);
      steady.push(d.decodeTps);
      steadyRun.push(d.runMsPerToken);
    }
    // PREFILL_PROMPT prefilled whole (KV reuse off), after the decode runs; the first run is not
    // kept (a prompt-length forward pass runs the kernels at other shapes than decode's one token).
    const prefill = [];
    for (let i = 0; i < prefillRuns; i++) prefill.push(await harnessPrefill(page));
    const common = {
      threads: cold.info.threads,
      // What ran the decode steps: ONNX Runtime Web, or the int8 step of our own (q8 Llama models; LoadedInfo.decodeEngine).
      decode_engine: cold.info.decodeEngine,
      cold_load_ms: cold.ms,
      // The first cold load's read (its files downloaded and stored; preflight, ONNX Runtime's setup
      // and the tokenizer's parse too) and a plain download of the model's large files just before it.
      cold_read_ms: cold.info.downloadMs,
      plain_download_ms: download ? download.ms : null,
      warmup_ms: cold.info.warmupMs,
      warmup_tokens: cold.info.warmupTokens,
      session_ms: cold.info.sessionCreateMs,
      // The kernel primer beside the cold load's download (a worker of its own: worker/primer-helper.ts): its steps and how it ended.
      cold_primer: cold.info.primer ? { worker: cold.info.primer.worker, runs: cold.info.primer.runs, end: cold.info.primer.skipped ?? (cold.info.primer.settled ? 'settled' : 'session') } : null,
      decode_cold: median(colds),
      decode_cold_samples: colds.map((x) => Math.round(x)),
      decode_steady: median(steady.slice(-steadyKept)),
      decode_steady_samples: steady.slice(-steadyKept).map((x) => Math.round(x * 100) / 100),
      // ONNX Runtime's part of a steady token (the KV loop's account), the same runs' median.
      run_ms_per_token_steady: steadyRun.slice(-steadyKept).every((x) => x !== null) ? median(steadyRun.slice(-steadyKept)) : null,
      steady_tokens: steadyTokens,
      ttft_ms: first.ttftMs,
      prefill_tps: first.prefillTps,
      prefill_tps_steady: prefill.length > 1 ? median(prefill.slice(1).map((p) => p.prefillTps)) : null,
      prefill_tokens: prefill[0]?.inputTokens ?? null,
    };
    if (!warmLoad) return { ...common, warm_load_ms: null, warm_parts: null, then: then ? await then(page, common) : null };
    const settleMs = store ? await disposeAndSettle(page) : null;
    // The page's own browser: a `store` sitting runs in a persistent profile, a Chromium of its own.
    const touch = peakWatch(await rendererPids(page.context().browser() ?? browser));
    const warm = await harnessLoad(page, { source, dtype, device: 'wasm', threads, warmup, useBrowserCache: store });
    const touched = touchedBytes(touch);
    if (store && warm.info.cache?.source !== 'cache') throw new Error(`${model} ${dtype}: the warm load did not read the app's store (${JSON.stringify(warm.info.cache)})`);
    // Right after the warm load, from the same cache: the two reads see the same state of it.
    const plain = plainUrls ? await plainRead(page, plainUrls, store) : null;
    const after = then ? await then(page, common) : null;
    return {
      ...common,
      then: after,
      warm_load_ms: warm.ms,
      // The warm load's own parts (the fields above are the cold load's): cache read, session
      // creation with ONNX Runtime's share of it (sessionParts: WASM only), warm-up.
      warm_parts: {
        // How long it waited for the machine to go quiet before it (settle.ts; null: no wait).
        settle_ms: settleMs === null ? null : Math.round(settleMs),
        // Where the warm load read its files: the app's store (Cache Storage) or the HTTP cache.
        cache: store ? 'store' : 'http',
        // ONNX Runtime's setup done before the Load (a spare worker prepared after the dispose, as the app's unload makes one).
        runtime_prepared: warm.info.runtimePrepared,
        read_ms: Math.round(warm.info.downloadMs),
        plain_read_ms: plain ? Math.round(plain.ms) : null,
        plain_read_bytes: plain ? plain.bytes : null,
        session_ms: Math.round(warm.info.sessionCreateMs),
        prepare_ms: warm.info.sessionParts ? Math.round(warm.info.sessionParts.prepareMs) : null,
        ort_create_ms: warm.info.sessionParts ? Math.round(warm.info.sessionParts.createMs) : null,
        // What the q4 rewrite made of the weights (null: none ran): the session native is compared with as run (first-touch.ts).
        rewrite_to: warm.info.weightRewrite?.to ?? null,
        warmup_ms: Math.round(warm.info.warmupMs),
        warmup_tokens: warm.info.warmupTokens,
        // The plan the worker's warm-up ran (a settled kernel primer shortens its decode floor and drops its
        // prefill passes: warmup-rule.ts); native's comparator runs this same plan.
        warmup_plan: warm.info.warmupPlan,
        warmup_floor_ms: warm.info.warmupPlan?.minDecodeMs ?? null,
        // The kernel primer beside the read (worker/primer.ts): how long it ran, and how it ended.
        primer_run_ms: warm.info.primer ? Math.round(warm.info.primer.runMs) : null,
        primer_end: warm.info.primer ? (warm.info.primer.skipped ?? (warm.info.primer.settled ? 'settled' : 'session')) : null,
        wasm_heap_mb: warm.info.wasmHeapBytes === null ? null : Math.round(warm.info.wasmHeapBytes / 1e6),
        // The int8 step's weights read and laid out for its kernels, and its own WebAssembly memory (null: it did not run).
        int8_step_ms: warm.info.int8Step ? Math.round(warm.info.int8Step.loadMs) : null,
        int8_step_mb: warm.info.int8Step ? Math.round(warm.info.int8Step.memoryBytes / 1e6) : null,
        // Its kernel's build (src/inference/int8-kernel.ts): 'relaxed' (relaxed SIMD's int8 dot, exact here) or 'simd'.
        int8_kernel: warm.info.int8Step?.kernel ?? null,
        // Memory the renderer touched for the first time during the warm load (touched.mjs; Linux only).
        touched_mb: touched === null ? null : Math.round(touched / 1e6),
      },
    };
  } finally {
    await open?.context.close();
  }
}

function parseMetric(text) {
  const m = /([\d.]+)\s*(ms|s|tok\/s)/.exec(text ?? '');
  if (!m) return null;
  const v = Number(m[1]);
  return m[2] === 's' ? v * 1000 : v;
}

/**
 * The real app: settings preset through localStorage (threads "auto", warm-up on, fixed-length
 * greedy runs), Load clicked, a prompt sent `runs` times. Long tasks (> 50 ms) on the main thread
 * are counted while answers stream.
 */
export async function measureApp(browser, base, { model, dtype, tokens = 128, runs = 8, warmup, source = { type: 'bundled', modelId: model }, profile = false }) {
  const context = await freshContext(browser, profile);
  const settings = {
    selection: { source, dtype, device: 'wasm', threads: 'auto', warmup: true },
    generation: { maxNewTokens: tokens, minNewTokens: tokens, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1, greedy: true },
    systemPrompt: '',
  };
  await context.addInitScript((s) => {
    if (!localStorage.getItem('slm.settings.v1')) localStorage.setItem('slm.settings.v1', s);
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  }, JSON.stringify(settings));
  const page = await context.newPage();
  const loadOnce = async (settleMs = 0) => {
    await page.goto(base);
    await page.waitForFunction(() => !document.querySelector('[data-testid=isolation-badge]')?.textContent?.includes('probing'), undefined, { polling: 50 });
    if (settleMs) await settleQuiet(settleMs);
    const t0 = Date.now();
    await page.click('[data-testid=load]');
    await page.waitForSelector('[data-testid=load-status][data-ready=true], [data-testid=load-error]', { timeout: 600_000 });
    const ms = Date.now() - t0;
    const err = await page.$('[data-testid=load-error]');
    if (err) throw new Error(`app load failed: ${await err.textContent()}`);
    const status = await page.textContent('[data-testid=load-status]');
    return { ms, threads: Number(/(\d+) threads?/.exec(status ?? '')?.[1] ?? NaN), status };
  };
  let bare = null;
  try {
    const cold = await loadOnce();
    // The bare-worker baseline for ui_overhead runs interleaved with the app's answers (same
    // browser, same thread count, same generation), one pair at a time, so that drift in this
    // machine's speed between runs cancels out of the ratio.
    bare = await openHarness(browser, base);
    await harnessLoad(bare.page, { source, dtype, device: 'wasm', threads: cold.threads, warmup });
    const bareTps = [];
    const bareEngineTps = [];
    const results = [];
    const pairs = [];
    const enginePairs = [];
    let hidden = 0;
    let longTasks = 0;
    for (let i = 0; i < runs; i++) {
      // A new conversation per run: the bare worker decodes after the same single prompt, so the
      // app must too (a growing conversation makes every step attend over more tokens).
      if (await page.isEnabled('[data-testid=new-chat]')) await page.click('[data-testid=new-chat]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=turn-assistant]').length === 0, undefined, { polling: 50 });
      const t0 = await page.evaluate(() => performance.now());
      await page.fill('[data-testid=prompt]', PROMPT[0].content);
      await page.click('[data-testid=send]');
      // Not waitForFunction's default polling: it runs in every animation frame, so it makes the page
      // render ~60 frames a second (measured: 0.17–0.21 s of the page's and the compositors' CPU per
      // 3 s on an idle page, where waitForSelector costs ~0.03 s), a load the app itself does not make.
      await page.waitForSelector('[data-testid=turn-assistant][data-streaming=false]', { state: 'attached', timeout: 300_000 });
      const t1 = await page.evaluate(() => performance.now());
      longTasks += await page.evaluate(([a, b]) => window.__longTasks.filter((e) => e.start >= a && e.start <= b && e.duration > 50).length, [t0, t1]);
      const last = page.locator('[data-testid=turn-assistant]').first();
      const get = async (k) => parseMetric(await last.locator(`dd[data-metric="${k}"]`).textContent());
      const appRun = { ttft_ms: await get('TTFT'), prefill_tps: await get('Prefill'), decode_tps: await get('Decode'), engine_decode_tps: await get('Decode (engine)'), e2e_ms: await get('End to end') };
      results.push(appRun);
      const b = await harnessDecode(bare.page, tokens);
      bareTps.push(b.decodeTps);
      bareEngineTps.push(b.engineDecodeTps);
      const appTail = tailRate(tokens, appRun.ttft_ms, appRun.e2e_ms);
      pairs.push(pairOverhead({ shown: b.shownDecodeTps, tail: b.fallbackTps }, { shown: appRun.decode_tps, tail: appTail }));
      enginePairs.push(pairOverhead({ shown: b.engineDecodeTps === b.fallbackTps ? null : b.engineDecodeTps, tail: b.fallbackTps }, { shown: appRun.engine_decode_tps, tail: appTail }));
      if (appRun.decode_tps === null || b.shownDecodeTps === null) hidden++;
      if (process.env.BENCH_VERBOSE) console.error('[pair]', appRun.decode_tps, b.shownDecodeTps, appTail?.toFixed(0), b.fallbackTps?.toFixed(0), pairs.at(-1)?.toFixed(3));
    }
    // A returning user's warm load: the bare worker closed, the page reloaded, and the previous
    // engines' teardown over before Load (settle.ts, at most SETTLE_MS, measured above measureHarness).
    await bare.context.close();
    bare = null;
    const warm = await loadOnce(SETTLE_MS);
    // Load click to the first answer's 64th token: the load, then that answer's TTFT and 63 tokens at
    // its own pace (its end-to-end time spread evenly over the tokens after the first); `_warm`: the
    // same answer after the returning user's warm load.
    const f = results[0];
    const first64 = f?.ttft_ms != null && f.e2e_ms != null ? f.ttft_ms + (63 * (f.e2e_ms - f.ttft_ms)) / (tokens - 1) : null;
    return {
      threads: cold.threads,
      time_to_first_answer_ms: first64 === null ? null : Math.round(cold.ms + first64),
      time_to_first_answer_warm_ms: first64 === null ? null : Math.round(warm.ms + first64),
      threads_note: cold.status?.match(/\d+ thread\(s\): (measured in alternating pairs[^\n]*?pairs faster\)\.|[^\n]{0,120})/)?.[0] ?? null,
      cold_load_ms: cold.ms,
      warm_load_ms: warm.ms,
      first: results[0],
      decode_steady: median(results.slice(1).map((r) => r.decode_tps)),
      bare_decode_steady: median(bareTps.slice(1)),
      // Paired: bare ÷ app − 1 for the same pair (pairOverhead), median over the pairs after the first.
      ui_overhead: median(pairs.slice(1)),
      // The same pairs on the worker's own clock: how much the page slows generation itself, without
      // the delivery of the last batch of text (up to one rendered frame late on a busy main thread),
      // which weighs heavily when a 128-token answer takes only ~60 ms.
      ui_overhead_engine: median(enginePairs.slice(1)),
      // Pairs where a side hid its rate (both then compared first token → end of answer).
      ui_overhead_hidden_pairs: hidden,
      long_tasks: longTasks,
    };
  } finally {
    await bare?.context.close();
    await context.close();
  }
}
