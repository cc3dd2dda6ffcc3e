/** Load progress as the UI shows it: one bar per file plus the total, folded from worker events; and the load's metrics once ready. */
import type { LoadMemory, LoadMetrics } from '../../metrics/timing';
import type { LoadEvent } from './LocalEngine';
import type { LoadedInfo } from './protocol';

export type LoadPhase = 'preflight' | 'download' | 'session' | 'warmup';

export interface FileProgress {
  file: string;
  loaded: number;
  total: number | null;
  done: boolean;
}

export interface LoadProgress {
  phase: LoadPhase;
  files: FileProgress[];
  /** Known up front when the host reports every file's size. */
  totalBytes: number | null;
}

export const initialProgress: LoadProgress = { phase: 'preflight', files: [], totalBytes: null };

function upsert(files: FileProgress[], file: string, f: (p: FileProgress) => FileProgress): FileProgress[] {
  const i = files.findIndex((x) => x.file === file);
  if (i === -1) return [...files, f({ file, loaded: 0, total: null, done: false })];
  const next = files.slice();
  next[i] = f(files[i] as FileProgress);
  return next;
}

export function applyLoadEvent(p: LoadProgress, e: LoadEvent): LoadProgress {
  switch (e.kind) {
    case 'plan':
      return {
        ...p,
        totalBytes: e.totalBytes,
        files: e.files.map((f) => ({ file: f.file, loaded: 0, total: f.bytes, done: false })),
      };
    case 'progress':
      return {
        ...p,
        files: upsert(p.files, e.file, (x) => ({ ...x, loaded: e.loaded, total: e.total > 0 ? e.total : x.total })),
      };
    case 'file-done':
      return { ...p, files: upsert(p.files, e.file, (x) => ({ ...x, done: true, loaded: x.total ?? x.loaded })) };
    case 'phase':
      return { ...p, phase: e.phase };
  }
}

export function loadedBytes(p: LoadProgress): number {
  return p.files.reduce((s, f) => s + (f.done ? (f.total ?? f.loaded) : f.loaded), 0);
}

/** 0..1 over all files, or null while the total is unknown. */
export function overallFraction(p: LoadProgress): number | null {
  const total = p.totalBytes ?? (p.files.every((f) => f.total !== null) ? p.files.reduce((s, f) => s + (f.total ?? 0), 0) : null);
  if (!total) return null;
  return Math.min(1, loadedBytes(p) / total);
}

/** The load part of the timing record from what the worker reported, with the main thread's load → ready time. */
export function loadMetricsOf(info: LoadedInfo, totalMs: number, memory?: LoadMemory): LoadMetrics {
  return {
    memory: memory ?? { weightsBytes: info.weightsBytes, wasmHeapBytes: info.wasmHeapBytes, pageBytes: null, baselineBytes: null, note: 'Page memory not measured here.' },
    downloadMs: info.downloadMs,
    downloadBytes: info.downloadBytes,
    fromCache: info.fromCache,
    sessionCreateMs: info.sessionCreateMs,
    warmupMs: info.warmupMs,
    warmupTokens: info.warmupTokens,
    totalMs,
  };
}
