/** Number formatting shared by every view. */
import { memoryOverFile, MIN_DECODE_INTERVALS, MIN_DECODE_WINDOW_MS, type LoadMemory } from './timing';

/** The tooltip of a decode rate shown as "—" (timing.ts: decodeRate). */
export const RATE_TOO_SHORT = `— : not measured, or measured over less than ${MIN_DECODE_WINDOW_MS} ms or ${MIN_DECODE_INTERVALS} tokens, which is too short to give a meaningful rate`;
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The tooltip of a shown decode rate: the reason for "—", nothing otherwise. */
export function tpsTitle(tps: number | null | undefined): string | undefined {
  return tps === null || tps === undefined || !Number.isFinite(tps) ? RATE_TOO_SHORT : undefined;
}

export function fmtTps(tps: number | null | undefined): string {
  if (tps === null || tps === undefined || !Number.isFinite(tps)) return '—';
  return tps >= 100 ? `${Math.round(tps)} tok/s` : `${tps.toFixed(1)} tok/s`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** How the prompt was prefilled: "prefill 14 new · 212 reused", or "unknown" where the engine does not say. */
export function fmtPrefill(m: { inputTokens: number; reusedInputTokens?: number | null | undefined }): string {
  const reused = m.reusedInputTokens;
  if (reused === null || reused === undefined) return 'unknown';
  return `prefill ${Math.max(0, m.inputTokens - reused)} new · ${reused} reused`;
}

/**
 * A load's measured memory in one line, as the Load status, a shared snapshot and the Markdown
 * export show it: "2.5 GB page + workers (310 MB before the load) · model worker WASM 1.9 GB ·
 * weights file 428 MB · 5.05× the file". `note` (what could not be measured) is left to the caller.
 */
export function fmtLoadMemory(m: LoadMemory): string {
  const ratio = memoryOverFile(m);
  const page = m.pageBytes !== null ? `${fmtBytes(m.pageBytes)} page + workers${m.baselineBytes !== null ? ` (${fmtBytes(m.baselineBytes)} before the load)` : ''} · ` : '';
  return `${page}model worker WASM ${fmtBytes(m.wasmHeapBytes)} · weights file ${fmtBytes(m.weightsBytes)}${ratio !== null ? ` · ${ratio.toFixed(2)}× the file` : ''}`;
}
