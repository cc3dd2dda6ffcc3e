/**
 * A page with the model worker and no UI, for automated runs: the browser parity tests and the
 * benchmark's "bare worker" baseline call `window.slmHarness` through Playwright.
 */
import { LocalEngine, LocalEngineError } from '../engines/local/LocalEngine';
import type { LoadRequest, LoadedInfo, WarmupPlan, WorkerEnvironment } from '../engines/local/protocol';
import type { ChatMessage, GenerationParams, RunResult } from '../engines/types';
import { DEFAULT_GENERATION } from '../engines/types';
import { appBase, ortBase } from '../hooks/urls';
import type { Dtype, ModelSource } from '../models/sources';

export interface HarnessLoad {
  source: ModelSource;
  dtype: Dtype;
  device: 'wasm' | 'webgpu';
  threads: number;
  warmup: WarmupPlan | null;
}

export interface HarnessRun extends RunResult {
  chunks: number;
  /** Main-thread arrival time of each chunk and how many tokens it carried. */
  chunkTimes: { at: number; tokens: number }[];
}

export interface Harness {
  probe(): Promise<WorkerEnvironment>;
  load(opts: HarnessLoad): Promise<LoadedInfo>;
  generate(messages: ChatMessage[], params?: Partial<GenerationParams>): Promise<HarnessRun>;
  /** Starts a generation and aborts it after `afterChunks` chunks. */
  generateAndStop(messages: ChatMessage[], afterChunks: number, params?: Partial<GenerationParams>): Promise<HarnessRun>;
  dispose(): void;
}

let engine: LocalEngine | null = null;

function current(): LocalEngine {
  if (!engine) engine = new LocalEngine();
  return engine;
}

async function run(messages: ChatMessage[], params: Partial<GenerationParams>, stopAfter: number | null): Promise<HarnessRun> {
  const ac = new AbortController();
  const chunkTimes: { at: number; tokens: number }[] = [];
  const r = await current().generate({
    messages,
    params: { ...DEFAULT_GENERATION, ...params },
    signal: ac.signal,
    onChunk: (c) => {
      chunkTimes.push({ at: c.at, tokens: c.tokens });
      if (stopAfter !== null && chunkTimes.length >= stopAfter) ac.abort();
    },
  });
  return { ...r, chunks: chunkTimes.length, chunkTimes };
}

const harness: Harness = {
  probe: () => current().probe(),
  async load(opts) {
    engine?.dispose();
    engine = new LocalEngine();
    const request: LoadRequest = { ...opts, appBase: appBase(), ortBase: ortBase(), useBrowserCache: false };
    try {
      return await engine.load(request);
    } catch (e) {
      throw new Error(e instanceof LocalEngineError ? `${e.error.code}: ${e.error.message}` : String(e));
    }
  },
  generate: (messages, params = {}) => run(messages, params, null),
  generateAndStop: (messages, afterChunks, params = {}) => run(messages, params, afterChunks),
  dispose() {
    engine?.dispose();
    engine = null;
  },
};

declare global {
  interface Window {
    slmHarness: Harness;
  }
}
window.slmHarness = harness;
document.body.dataset['harness'] = 'ready';
