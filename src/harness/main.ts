/**
 * A page with the model worker and no UI, for automated runs: the browser parity tests and the
 * benchmark's "bare worker" baseline call `window.slmHarness` through Playwright.
 */
import { LocalEngine, LocalEngineError } from '../engines/local/LocalEngine';
import { loadMetricsOf } from '../engines/local/load-progress';
import type { LoadRequest } from '../engines/local/protocol';
import type { ChatMessage, GenerationParams } from '../engines/types';
import { DEFAULT_GENERATION } from '../engines/types';
import { appBase, ortBase } from '../hooks/urls';
import { HostedEngine } from '../engines/hosted/HostedEngine';
import { bindKey } from '../engines/hosted/keys';
import { defaultSettings } from '../engines/hosted/presets';
import { columnsFor, hostedColumn, localColumn } from '../eval/engines';
import { RESULTS_FORMAT, RESULTS_VERSION, type CellResult, type RunRecord } from '../eval/results';
import { runSuite, type RunnerEngine } from '../eval/runner';
import { createBrowserSandbox } from '../eval/sandbox/browser';
import { prepareIfStored } from '../engines/local/prepare';
import { startRewriteHelpers } from '../engines/local/worker/rewrite-helpers';
import { base64ToBytes, bytesToBase64 } from '../lib/base64';
import { deleteCachedModel, listCachedModels } from '../models/cache';
import { KernelClient } from './kernel-client';
import type { Harness, HarnessLoad, HarnessQ4Job, HarnessRun, HarnessSuiteResult, HarnessSuiteRun } from './types';

let engine: LocalEngine | null = null;
/** The worker the next load starts in, made at dispose() as the app's unload makes one (useLocalModel). */
let spare: LocalEngine | null = null;
let lastLoad: HarnessLoad | null = null;
/** The benchmark's kernel worker and its session (kernelOpen … kernelClose). */
let kernel: KernelClient | null = null;

function current(): LocalEngine {
  if (!engine) engine = new LocalEngine();
  return engine;
}

async function run(messages: ChatMessage[], params: Partial<GenerationParams>, stopAfter: number | null, kvReuse = true): Promise<HarnessRun> {
  const ac = new AbortController();
  const chunkTimes: { at: number; tokens: number }[] = [];
  const r = await current().generate({
    messages,
    params: { ...DEFAULT_GENERATION, ...params },
    signal: ac.signal,
    kvReuse,
    onChunk: (c) => {
      chunkTimes.push({ at: c.at, tokens: c.tokens });
      if (stopAfter !== null && chunkTimes.length >= stopAfter) ac.abort();
    },
  });
  return { ...r, chunks: chunkTimes.length, chunkTimes };
}

async function suiteRun(cfg: HarnessSuiteRun): Promise<HarnessSuiteResult> {
  const engines: RunnerEngine[] = [];
  const loads: RunRecord['loads'] = [];
  if (cfg.local) {
    const t0 = performance.now();
    const info = await harness.load(cfg.local);
    const local = current();
    engines.push({ column: localColumn(info, local.label), engine: local });
    loads.push({ engineId: 'local', load: loadMetricsOf(info, performance.now() - t0) });
  }
  if (cfg.hosted) {
    const h = cfg.hosted;
    const engine = new HostedEngine({ endpoint: { ...defaultSettings(h.presetId), baseUrl: h.baseUrl, model: h.model }, key: h.key ? bindKey(h.baseUrl, h.key) : null });
    const model = await engine.resolveModel(undefined);
    engines.push({ column: hostedColumn(model, engine.label, h.baseUrl), engine });
    loads.push({ engineId: 'hosted', load: null });
  }
  const columns = columnsFor(engines, cfg.constraint ?? 'free');
  const now = Date.now();
  let record: RunRecord = {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    id: crypto.randomUUID(),
    name: cfg.name,
    createdAt: now,
    updatedAt: now,
    status: 'running',
    suite: cfg.suite,
    engines: columns.map((e) => e.column),
    params: cfg.params,
    prices: {},
    loads,
    cells: [],
  };
  const cells: CellResult[] = [];
  const total = cfg.suite.cases.length * columns.length;
  const sandbox = createBrowserSandbox(); // the app's scoring path: a Web Worker with a time limit per case
  const summary = await runSuite({
    record,
    engines: columns,
    hostedConcurrency: cfg.hostedConcurrency,
    sandbox,
    signal: new AbortController().signal,
    onCell: (c) => {
      cells.push(c);
      if (cfg.log) console.log(`[cell] ${cells.length}/${total} ${c.engineId} ${c.caseId} ${c.status === 'error' ? `error: ${c.error}` : c.score ? (c.score.pass ? 'pass' : 'fail') : 'unscored'}`);
    },
  }).finally(() => sandbox.dispose());
  record = { ...record, cells, status: cells.filter((c) => c.status === 'done').length === total ? 'done' : 'stopped', updatedAt: Date.now() };
  return { record, wallMs: summary.wallMs };
}

const jobOf = (j: HarnessQ4Job) => ({ K: j.K, N: j.N, blockSize: j.blockSize, b: { data: base64ToBytes(j.b) }, scales: new Float32Array(base64ToBytes(j.scales).buffer), zeroPoints: j.zeroPoints === null ? null : base64ToBytes(j.zeroPoints) });

const harness: Harness = {
  runSuite: suiteRun,
  probe: () => current().probe(),
  async load(opts) {
    engine?.dispose();
    engine = spare ?? new LocalEngine();
    spare = null;
    lastLoad = opts;
    const request: LoadRequest = { ...opts, appBase: appBase(), ortBase: ortBase(), useBrowserCache: opts.useBrowserCache ?? false };
    try {
      return await engine.load(request);
    } catch (e) {
      throw new Error(e instanceof LocalEngineError ? `${e.error.code}: ${e.error.message}${e.error.detail ? ` (${e.error.detail.slice(0, 500)})` : ""}` : String(e));
    }
  },
  generate: (messages, params = {}, kvReuse = true) => run(messages, params, null, kvReuse),
  async kernelOpen(url, threads, graph = 'kernel') {
    kernel?.close();
    kernel = new KernelClient();
    return kernel.open(url, threads, ortBase(), graph);
  },
  async kernelRun(warmups, runs, rows = 1, warmupMs = 0) {
    if (!kernel) throw new Error('kernelRun before kernelOpen');
    return { ms: await kernel.run(warmups, runs, rows, warmupMs) };
  },
  kernelClose() {
    kernel?.close();
    kernel = null;
  },
  async kernelBench(url, threads, warmups, runs, rows = 1, warmupMs = 0) {
    try {
      const { sessionMs } = await harness.kernelOpen(url, threads);
      return { ...(await harness.kernelRun(warmups, runs, rows, warmupMs)), sessionMs };
    } finally {
      harness.kernelClose();
    }
  },
  async fillInHelper(jobs, to) {
    // Group 0 (this thread's) is empty: everything goes to one helper, in its own bundle.
    const helpers = startRewriteHelpers(2);
    if (!helpers) throw new Error('no rewrite helper could start');
    try {
      const filled = (await helpers.fill([[], jobs.map(jobOf)], to))[1];
      if (helpers.failure || !filled) throw new Error(`the helper failed: ${helpers.failure ?? 'no group back'}`);
      return { data: bytesToBase64(filled.data), scales: filled.scales.map((s) => bytesToBase64(new Uint8Array(s.buffer, s.byteOffset, s.byteLength))) };
    } finally {
      helpers.close();
    }
  },
  generateAndStop: (messages, afterChunks, params = {}) => run(messages, params, afterChunks),
  dispose() {
    engine?.dispose();
    engine = null;
    // As the app after an unload: a spare worker, prepared when the last load's model is stored.
    spare?.dispose();
    const s = (spare = new LocalEngine());
    if (lastLoad) void prepareIfStored(s, lastLoad, { appBase: appBase(), ortBase: ortBase() }, () => spare === s);
  },
  async deleteCachedModel(modelId) {
    const groups = (await listCachedModels()).filter((m) => m.modelId === modelId);
    for (const g of groups) await deleteCachedModel(g);
    return groups.length;
  },
};

window.slmHarness = harness;
document.body.dataset['harness'] = 'ready';
