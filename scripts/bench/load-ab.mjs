/**
 * Warm load of one scale model, two builds of the app in turn (A B A B, same sitting), split into
 * its parts as the worker reports them (issue 12 item 3 "load"): each round opens the harness in a
 * fresh context, loads once (fills the HTTP cache), then loads again (warm: a fresh worker, the
 * bytes from the HTTP cache) and keeps the second load's parts.
 * With --native, each round also runs the native warm load (onnxruntime-node: session + the same
 * warm-up on the same files, as the bench's `native_warm_load_ms`), so each side gets its ratio.
 * With --store, as the bench's scale rows load: each round in a fresh persistent profile (Chromium's
 * code cache, as a returning user has it), through the app's store, the warm load SETTLE_MS after
 * the first engine was disposed. After the warm load, each side's first answer (64 tokens) gives
 * `first_answer_tps`: what the warm-up is for.
 *   tsx scripts/bench/load-ab.mjs --a /tmp/base/dist --b dist --shape smollm2-135m --dtype q4 [--rounds 2] [--threads 1] [--native] [--store] [--b-min-decode-ms 500]
 */
import path from 'node:path';
import { execSync } from 'node:child_process';
import { preview } from 'vite';
import { cliOption as opt, serveScaleModel } from './scale-host.mjs';
import { disposeAndSettle, harnessDecode, harnessLoad, launch, openHarness } from './browser.mjs';
import { DEFAULT_WARMUP } from '../../src/engines/local/LocalEngine.ts';
import { nativeWarmLoad } from './native.mjs';

const args = process.argv.slice(2);
const sides = { A: path.resolve(opt('a', 'dist')), B: path.resolve(opt('b', 'dist')) };
const shape = opt('shape', 'smollm2-135m');
const dtype = opt('dtype', 'q4');
const rounds = Number(opt('rounds', '2'));
const threads = Number(opt('threads', '1'));
const warmup = opt('warmup', 'on') === 'off' ? null : DEFAULT_WARMUP;
// --b-min-decode-ms N: side B's warm-up gets that decode floor instead (same build on both sides to compare plans).
const bMinDecodeMs = opt('b-min-decode-ms', null);
const warmupFor = (k) => (k === 'B' && warmup && bMinDecodeMs !== null ? { ...warmup, minDecodeMs: Number(bMinDecodeMs) } : warmup);
const native = args.includes('--native');
const store = args.includes('--store');

const servers = {};
for (const [k, dir] of Object.entries(sides)) {
  const s = await preview({ build: { outDir: dir }, preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  servers[k] = { s, base: s.resolvedUrls?.local?.[0] ?? `http://localhost:${s.httpServer.address().port}/` };
}
const { source, model: m, close } = await serveScaleModel(shape, [dtype]);
const browser = await launch();
const load = () => execSync('uptime').toString().trim().replace(/.*load average: /, '');
const parts = (r) => ({
  total_ms: Math.round(r.ms),
  runtime_prepared: r.info.runtimePrepared,
  read_ms: Math.round(r.info.downloadMs),
  session_ms: Math.round(r.info.sessionCreateMs),
  rewrite_ms: r.info.weightRewrite ? Math.round(r.info.weightRewrite.ms) : null,
  rewrite_workers: r.info.weightRewrite?.workers ?? null,
  helper_failure: r.info.weightRewrite?.helperFailure ?? null,
  prepare_ms: r.info.sessionParts ? Math.round(r.info.sessionParts.prepareMs) : null,
  ort_create_ms: r.info.sessionParts ? Math.round(r.info.sessionParts.createMs) : null,
  warmup_ms: Math.round(r.info.warmupMs),
  warmup_tokens: r.info.warmupTokens,
  warmup_tps: r.info.warmupDecodeTps === null ? null : Math.round(r.info.warmupDecodeTps * 10) / 10,
  warmup_plan: r.info.warmupPlan,
  primer: r.info.primer,
  heap_mb: r.info.wasmHeapBytes === null ? null : Math.round(r.info.wasmHeapBytes / 1e6),
});
try {
  for (let i = 0; i < rounds; i++) {
    if (native) {
      const l0 = load();
      const n = await nativeWarmLoad({ model: m.name, dtype, threads, modelsDir: path.dirname(m.dir), warmup: warmup ?? { prefillPasses: 0, maxTokens: 0, minTokens: 0, minDecodeMs: 0, maxMs: 0 } });
      console.log(JSON.stringify({ side: 'native', round: i + 1, shape, dtype, load_before: l0, warm: { total_ms: Math.round(n.warm_load_ms), session_ms: Math.round(n.session_ms), warmup_ms: Math.round(n.warmup_ms), warmup_tokens: n.warmup_tokens } }));
    }
    for (const k of i % 2 ? ['B', 'A'] : ['A', 'B']) {
      const { context, page } = await openHarness(browser, servers[k].base, store);
      try {
        const opts = { source, dtype, device: 'wasm', threads, warmup: warmupFor(k), useBrowserCache: store };
        const cold = await harnessLoad(page, opts);
        if (store) await disposeAndSettle(page);
        const l0 = load();
        const warm = await harnessLoad(page, opts);
        // The first answer after ready: a warm-up that ends too early (or de-optimises the loop) shows here.
        const first = await harnessDecode(page, 64);
        // Two more answers: the same page's steady speed, so the first answer reads against its own page.
        const laterRuns = [await harnessDecode(page, 64), await harnessDecode(page, 64)];
        const later = laterRuns.map((a) => a.decodeTps);
        const round1 = (x) => Math.round(x * 10) / 10;
        console.log(JSON.stringify({ side: k, round: i + 1, shape, dtype, load_before: l0, load_after: load(), warm: parts(warm), first_answer_tps: round1(first.decodeTps), first_ttft_ms: Math.round(first.ttftMs), later_ttft_ms: Math.round(laterRuns[0].ttftMs), later_answers_tps: later.map(round1), first_over_later: Math.round((first.decodeTps / Math.max(...later)) * 100) / 100, cold: parts(cold) }));
      } finally {
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
  await close();
  for (const { s } of Object.values(servers)) await new Promise((r) => s.httpServer.close(r));
}
