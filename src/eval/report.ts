/**
 * The trade-off a suite answers: for each in-browser engine against each hosted one, how their
 * accuracy, latency and cost compare, and after how many requests the local model has paid back
 * its one-time load (download + session + warm-up) in time saved per request.
 */
import { breakEven } from '../metrics/stats';
import type { EngineColumn, RunRecord } from './results';
import type { ColumnTotals, ResultsTable } from './results-table';

export interface TradeOff {
  local: EngineColumn;
  hosted: EngineColumn;
  /** Cold start of the local engine (load request → ready), ms; null when not recorded. */
  localLoadMs: number | null;
  localDownloadBytes: number | null;
  /** Median end-to-end per request (warm), ms. */
  localP50: number | null;
  hostedP50: number | null;
  /** Requests after which local's load time is paid back; null when local is not faster per request. */
  breakEvenRequests: number | null;
  /** Accuracy difference local − hosted (percentage points ÷ 100); null when either has none. */
  accuracyDelta: number | null;
  /** Hosted USD per 1,000 requests like these (local: $0); null without a price. */
  hostedCostPer1k: number | null;
}

function perRequestCost(t: ColumnTotals): number | null {
  const n = t.done + t.errors;
  if (t.costUsd === null || n === 0) return null;
  return t.costUsd / n;
}

export function tradeOffs(record: RunRecord, table: ResultsTable): TradeOff[] {
  const out: TradeOff[] = [];
  const totals = new Map(table.totals.map((t) => [t.engineId, t]));
  for (const local of record.engines.filter((e) => e.kind === 'local')) {
    for (const hosted of record.engines.filter((e) => e.kind === 'hosted')) {
      const lt = totals.get(local.id);
      const ht = totals.get(hosted.id);
      if (!lt || !ht) continue;
      const load = record.loads.find((l) => l.engineId === local.id)?.load ?? null;
      const localLoadMs = load ? load.totalMs : null;
      const localP50 = lt.e2e.p50;
      const hostedP50 = ht.e2e.p50;
      const perReq = perRequestCost(ht);
      out.push({
        local,
        hosted,
        localLoadMs,
        localDownloadBytes: load ? load.downloadBytes : null,
        localP50,
        hostedP50,
        breakEvenRequests:
          localLoadMs !== null && localP50 !== null && hostedP50 !== null
            ? breakEven({ oneTimeMs: localLoadMs, localPerRequestMs: localP50, hostedPerRequestMs: hostedP50 })
            : null,
        accuracyDelta: lt.accuracy !== null && ht.accuracy !== null ? lt.accuracy - ht.accuracy : null,
        hostedCostPer1k: perReq === null ? null : perReq * 1000,
      });
    }
  }
  return out;
}

/** Latency histogram bins (ms) over every column's done cells: shared edges so columns compare. */
export function latencyBins(table: ResultsTable, bins = 12): { from: number; to: number; counts: number[] }[] {
  const values = table.body.flatMap((r) => r.cells.map((c) => (c?.status === 'done' && c.metrics ? c.metrics.e2eMs : null)));
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return [];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const width = hi > lo ? (hi - lo) / bins : 1;
  const out = Array.from({ length: hi > lo ? bins : 1 }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, counts: table.head.engines.map(() => 0) }));
  table.body.forEach((r) =>
    r.cells.forEach((c, j) => {
      if (c?.status !== 'done' || !c.metrics) return;
      const i = Math.min(out.length - 1, Math.floor((c.metrics.e2eMs - lo) / width));
      const bin = out[i];
      if (bin) bin.counts[j] = (bin.counts[j] ?? 0) + 1;
    }),
  );
  return out;
}

/**
 * Two runs side by side as one record: the first run's cases that the second also has, and every
 * engine column of both (ids prefixed "a:" / "b:", labels marked with the run's date), so the same
 * table, report and exports work for a comparison of runs.
 */
export function compareRuns(a: RunRecord, b: RunRecord): RunRecord {
  const inB = new Set(b.suite.cases.map((c) => c.id));
  const cases = a.suite.cases.filter((c) => inB.has(c.id));
  const keep = new Set(cases.map((c) => c.id));
  const stamp = (r: RunRecord) => new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' ');
  const side = (r: RunRecord, p: string) => ({
    engines: r.engines.map((e) => ({ ...e, id: `${p}:${e.id}`, label: `${e.label} · ${stamp(r)}` })),
    cells: r.cells.filter((c) => keep.has(c.caseId)).map((c) => ({ ...c, engineId: `${p}:${c.engineId}`, ...(c.judge ? { judge: { ...c.judge, engineId: `${p}:${c.judge.engineId}` } } : {}) })),
    loads: r.loads.map((l) => ({ ...l, engineId: `${p}:${l.engineId}` })),
  });
  const A = side(a, 'a');
  const B = side(b, 'b');
  return {
    ...a,
    id: `compare-${a.id}-${b.id}`.slice(0, 200),
    name: `${a.name} vs ${b.name}`.slice(0, 200),
    status: a.status === 'done' && b.status === 'done' ? 'done' : 'stopped',
    suite: { ...a.suite, cases },
    engines: [...A.engines, ...B.engines],
    cells: [...A.cells, ...B.cells],
    loads: [...A.loads, ...B.loads],
    prices: { ...b.prices, ...a.prices },
  };
}
