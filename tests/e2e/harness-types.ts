/**
 * The shape of `window.slmHarness` (src/harness/main.ts), restated for the Node-side tests:
 * importing that module would type-check browser-only code (import.meta.env) under the Node
 * tsconfig. Only the engine's protocol types are imported, and those are plain types.
 */
import type { LoadedInfo, WarmupPlan, WorkerEnvironment } from '../../src/engines/local/protocol';
import type { ChatMessage, GenerationParams, RunResult } from '../../src/engines/types';
import type { Dtype, ModelSource } from '../../src/models/sources';

export interface HarnessLoad {
  source: ModelSource;
  dtype: Dtype;
  device: 'wasm' | 'webgpu';
  threads: number;
  warmup: WarmupPlan | null;
}

export interface HarnessRun extends RunResult {
  chunks: number;
  chunkTimes: { at: number; tokens: number }[];
}

export interface Harness {
  probe(): Promise<WorkerEnvironment>;
  load(opts: HarnessLoad): Promise<LoadedInfo>;
  generate(messages: ChatMessage[], params?: Partial<GenerationParams>): Promise<HarnessRun>;
  generateAndStop(messages: ChatMessage[], afterChunks: number, params?: Partial<GenerationParams>): Promise<HarnessRun>;
  dispose(): void;
}

declare global {
  interface Window {
    slmHarness: Harness;
  }
}
