/**
 * The shape of `window.slmHarness` (src/harness/main.ts): plain types, importable from Node-side
 * code (tests, the headless runner, the benchmark) without type-checking browser-only modules.
 */
import type { PresetId } from '../engines/hosted/presets';
import type { GraphKind } from './kernel.worker';
import type { LoadedInfo, WarmupPlan, WorkerEnvironment } from '../engines/local/protocol';
import type { ChatMessage, GenerationParams, RunResult } from '../engines/types';
import type { ConstraintMode } from '../eval/engines';
import type { RunRecord } from '../eval/results';
import type { Suite } from '../eval/suite';
import type { Dtype, ModelSource } from '../models/sources';

export interface HarnessLoad {
  source: ModelSource;
  dtype: Dtype;
  device: 'wasm' | 'webgpu';
  threads: number;
  warmup: WarmupPlan | null;
  /** Store downloads in Cache Storage as the app does (default false: every load downloads, as the benchmark wants). */
  useBrowserCache?: boolean;
  /** The int8 step (LoadRequest.int8Step; default on: q8, and q4 made int8 at load): the benchmark measures ONNX Runtime Web alone too. */
  int8Step?: boolean;
  /** The int8 step's relaxed-SIMD kernel where exact (LoadRequest.int8Relaxed; default on): false for paired measurements. */
  int8Relaxed?: boolean;
}

export interface HarnessRun extends RunResult {
  chunks: number;
  /** Main-thread arrival time of each chunk and how many tokens it carried. */
  chunkTimes: { at: number; tokens: number }[];
}

/** A suite run with no UI (the headless runner, the benchmark): the app's runner and engines. */
export interface HarnessSuiteRun {
  suite: Suite;
  name: string;
  local: HarnessLoad | null;
  /** The key is only ever held in this page's memory; it is not part of the result. */
  hosted: { presetId: PresetId; baseUrl: string; model: string; key: string | null } | null;
  params: GenerationParams;
  hostedConcurrency: number;
  /** Cases with a response schema: free text (default), constrained, or both as twin columns (eval/engines.ts). */
  constraint?: ConstraintMode;
  /** Log each finished cell to the console (progress for the CLI; the benchmark leaves it off). */
  log?: boolean;
}

export interface HarnessSuiteResult {
  record: RunRecord;
  /** Wall time of the runner (ms), from the first case to the last, models already loaded. */
  wallMs: number;
}

/** One 4-bit MatMulNBits node for `fillInHelper`, its arrays as base64 (bytes; scales as f32 little-endian). */
export interface HarnessQ4Job {
  K: number;
  N: number;
  blockSize: number;
  b: string;
  scales: string;
  zeroPoints: string | null;
}

export interface Harness {
  /** Runs a suite on the engines given; each finished cell is logged as `[cell] …` for progress. */
  runSuite(run: HarnessSuiteRun): Promise<HarnessSuiteResult>;
  probe(): Promise<WorkerEnvironment>;
  load(opts: HarnessLoad): Promise<LoadedInfo>;
  /** `kvReuse` false: prefill the whole prompt (the benchmark's baseline); default true. */
  generate(messages: ChatMessage[], params?: Partial<GenerationParams>, kvReuse?: boolean): Promise<HarnessRun>;
  /** The benchmark's kernel floor: opens a bare ONNX graph (kernel.worker.ts) with the model worker's setup, in a worker of its own (a previous one is closed); `graph` 'step': a model's own graph, one decode step a run. */
  kernelOpen(url: string, threads: number, graph?: GraphKind): Promise<{ sessionMs: number; pooled: boolean }>;
  /** Times `runs` runs of the open graph with `rows` rows after `warmups` runs (and at least `warmupMs`). */
  kernelRun(warmups: number, runs: number, rows?: number, warmupMs?: number): Promise<{ ms: number[] }>;
  kernelClose(): void;
  /** kernelOpen, one kernelRun, kernelClose. */
  kernelBench(url: string, threads: number, warmups: number, runs: number, rows?: number, warmupMs?: number): Promise<{ ms: number[]; sessionMs: number }>;
  /** The q4 rewrite's new weights for `jobs` (one group), filled by a rewrite helper worker as a load's are; base64. */
  fillInHelper(jobs: HarnessQ4Job[], to: 'fp32' | 'int8'): Promise<{ data: string; scales: string[] }>;
  /** Starts a generation and aborts it after `afterChunks` chunks. */
  generateAndStop(messages: ChatMessage[], afterChunks: number, params?: Partial<GenerationParams>): Promise<HarnessRun>;
  dispose(): void;
  /** The Cache tab's Delete (src/models/cache.ts) on every cached group of `modelId` ('org/name'): how many there were. */
  deleteCachedModel(modelId: string): Promise<number>;
}

declare global {
  interface Window {
    slmHarness: Harness;
  }
}
