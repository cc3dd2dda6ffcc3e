/**
 * From the app's state to a share, and back: pure functions, so every field's round trip is
 * tested without a browser.
 */
import type { Exchange } from '../compare/strip';
import type { WorkerEnvironment, LoadedInfo } from '../engines/local/protocol';
import type { EndpointSettings } from '../engines/hosted/presets';
import type { GenerationParams } from '../engines/types';
import type { LoadMetrics } from '../metrics/timing';
import type { ModelSelection } from '../state/settings';
import { type EngineColumn, type RunRecord } from '../eval/results';
import { buildResultsTable, type ColumnTotals } from '../eval/results-table';
import type { SessionEntry } from '../compare/agreement-tally';
import { SESSION_LIMITS, SHARE_VERSION, type ShareSession, type ShareAnswer, type ShareDevice, type ShareSnapshot, type ShareState, type ShareSuiteRef, type ShareSuiteSnapshot, type ShareSuiteTotals } from './schema';

export interface SetupInput {
  local: ModelSelection;
  /** The hosted pane's endpoint when it takes part, else null. */
  hosted: EndpointSettings | null;
  generation: GenerationParams;
  systemPrompt: string;
  prompt: string;
  suite?: ShareSuiteRef | null;
}

export function setupState(s: SetupInput, snapshot: ShareSnapshot | null = null, suiteSnapshot: ShareSuiteSnapshot | null = null, session: ShareSession | null = null): ShareState {
  const hosted = s.hosted
    ? {
        presetId: s.hosted.presetId,
        baseUrl: s.hosted.baseUrl,
        model: s.hosted.model,
        // Optional fields only when set: the link stays short and the schema strict.
        ...(s.hosted.apiVersion !== undefined ? { apiVersion: s.hosted.apiVersion } : {}),
        ...(s.hosted.auth !== undefined ? { auth: s.hosted.auth } : {}),
        ...(s.hosted.sdkHeaders !== undefined ? { sdkHeaders: s.hosted.sdkHeaders } : {}),
      }
    : null;
  return {
    v: SHARE_VERSION,
    local: { source: { ...s.local.source }, dtype: s.local.dtype, device: s.local.device, threads: s.local.threads, warmup: s.local.warmup },
    hosted,
    generation: { ...s.generation },
    systemPrompt: s.systemPrompt,
    prompt: s.prompt,
    snapshot,
    suite: s.suite ?? null,
    suiteSnapshot,
    session,
  };
}

/** A session's agreement as a link carries it: the last 100 exchanges, answers cut to 4,000 characters. */
export function sessionOf(entries: readonly SessionEntry[], loadMs: number | null): ShareSession | null {
  if (entries.length === 0) return null;
  const cut = (x: string | null, n: number) => (x === null ? null : x.slice(0, n));
  return {
    entries: entries.slice(-SESSION_LIMITS.entries).map((e) => ({
      ...e,
      prompt: e.prompt.slice(0, SESSION_LIMITS.promptChars),
      local: e.local.slice(0, SESSION_LIMITS.answerChars),
      hosted: e.hosted.slice(0, SESSION_LIMITS.answerChars),
      localError: cut(e.localError, 2000),
      hostedError: cut(e.hostedError, 2000),
      verdict: { ...e.verdict, reason: e.verdict.reason.slice(0, 1000), judgeError: cut(e.verdict.judgeError, 500) },
    })),
    loadMs,
  };
}

/** A suite as a link refers to it: by file name when it ships with the app unchanged, else whole. */
export function suiteRefOf(record: RunRecord, bundled: { file: string; id: string; name: string; cases: number }[]): ShareSuiteRef {
  const b = bundled.find((x) => x.id === record.suite.id && x.cases === record.suite.cases.length && x.name === record.suite.name);
  if (b) return { kind: 'bundled', file: b.file, id: b.id, name: b.name, cases: b.cases };
  return { kind: 'inline', suite: record.suite };
}

/** One engine column's totals as a share carries them (and as the banner shows the viewer's). */
export function suiteTotalsOf(e: EngineColumn, t: ColumnTotals): ShareSuiteTotals {
  return {
    kind: e.kind,
    label: e.label.slice(0, 300),
    model: e.model.slice(0, 500),
    passed: t.passed,
    scored: t.scored,
    errors: t.errors,
    e2eP50: t.e2e.p50,
    e2eP95: t.e2e.p95,
    ttftP50: t.ttft.p50,
    decodeTps: t.decodeTps,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    costUsd: t.costUsd,
    memoryPeakBytes: e.kind === 'local' ? t.memoryPeakBytes : null,
  };
}

/** A suite run's results, compact: per-engine totals and per-cell verdict and time (no outputs). */
export function suiteSnapshotOf(record: RunRecord, device: ShareDevice, now: Date): ShareSuiteSnapshot {
  const table = buildResultsTable(record);
  const engines = table.head.engines.slice(0, 8);
  return {
    takenAt: now.toISOString(),
    device,
    suiteId: record.suite.id,
    engines: engines.map((e, j) => suiteTotalsOf(e, table.totals[j]!)),
    cells: table.body.flatMap((row, i) =>
      row.cells.slice(0, 8).flatMap((c, j): [number, number, 0 | 1 | null, number | null][] =>
        c ? [[i, j, c.status === 'done' && c.score ? (c.score.pass ? 1 : 0) : null, c.metrics ? Math.round(c.metrics.e2eMs) : null]] : [],
      ),
    ),
  };
}

export function deviceOf(env: WorkerEnvironment, loaded: LoadedInfo | null): ShareDevice {
  const gpu = env.webgpu;
  return {
    userAgent: env.userAgent.slice(0, 500),
    hardwareConcurrency: env.hardwareConcurrency,
    crossOriginIsolated: env.crossOriginIsolated,
    adapter: gpu ? [gpu.vendor, gpu.architecture, gpu.description && `(${gpu.description})`].filter(Boolean).join(' ').slice(0, 300) || 'unknown adapter' : null,
    backend: loaded ? loaded.device : null,
    threads: loaded ? loaded.threads : null,
  };
}

export interface SnapshotInput {
  exchange: Exchange;
  env: WorkerEnvironment;
  loaded: LoadedInfo | null;
  load: LoadMetrics | null;
  now: Date;
}

/** A finished exchange as a snapshot: the prompt, every pane's answer and numbers, the device. */
export function snapshotOf(input: SnapshotInput): ShareSnapshot {
  const answers: ShareAnswer[] = input.exchange.answers
    .filter((a): a is typeof a & { paneId: 'local' | 'hosted' } => a.paneId === 'local' || a.paneId === 'hosted')
    .slice(0, 8)
    .map((a) => ({
      pane: a.paneId,
      label: a.label.slice(0, 300),
      output: a.output.slice(0, 20_000),
      finishReason: a.finishReason,
      error: a.error === null ? null : a.error.slice(0, 2000),
      metrics: a.metrics ? { ...a.metrics } : null,
      bytesSent: a.bytesSent,
    }));
  const load = input.load;
  return {
    takenAt: input.now.toISOString(),
    device: deviceOf(input.env, input.loaded),
    prompt: input.exchange.prompt.slice(0, 20_000),
    load: load
      ? {
          downloadMs: load.downloadMs,
          downloadBytes: load.downloadBytes,
          sessionCreateMs: load.sessionCreateMs,
          warmupMs: load.warmupMs,
          totalMs: load.totalMs,
          ...(load.memory ? { memory: { ...load.memory, note: load.memory.note?.slice(0, 500) ?? null } } : {}),
        }
      : null,
    answers,
  };
}
