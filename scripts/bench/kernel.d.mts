// Types for what TypeScript code imports from kernel.mjs (the bench itself is plain JavaScript).
import type { Browser } from 'playwright-core';

export const DTYPE_FILE: { fp32: string; q8: string; q4: string };
export const KERNEL_RUNS: Record<'scale' | 'toy', { warmups: number; runs: number }>;

export function startBenchHost(): Promise<{ host: { url: string }; root: string; close: () => Promise<void> }>;

export interface KernelFigures {
  kernel_ratio: number | null;
  kernel_web_ms?: number[];
  kernel_node_ms?: number[];
  kernel_ratios?: number[];
  prefill_kernel_ratio?: number | null;
  prefill_kernel_web_ms?: number[];
  prefill_kernel_node_ms?: number[];
  kernel_session_ms?: { web: number | null; node: number | null };
}

/** What both floors are told: the browser and app, the bench host and its folder, the model's file, threads, run sizes. */
export interface FloorOptions {
  browser: Browser;
  base: string;
  host: { url: string };
  root: string;
  model: { name: string; dir: string };
  file: string;
  threads: number;
  size?: 'scale' | 'toy';
}

export function kernelRatio(opts: FloorOptions & { dtype: string; prefillRows?: number | null; log: (line: string) => void }): Promise<KernelFigures>;

export interface GraphFigures {
  graph_ratio: number;
  graph_past: number;
  graph_pooled: boolean;
  graph_web_ms: number[];
  graph_node_ms: number[];
  graph_ratios: number[];
  graph_session_ms: { web: number | null; node: number | null };
}

export function graphRatio(opts: FloorOptions): Promise<GraphFigures>;
