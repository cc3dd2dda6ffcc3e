/**
 * The pure, promptfoo-style results table drawn from a run record: the head (engine columns), a
 * row per case, totals per column (accuracy with its interval, per category, latency quantiles,
 * decode speed, tokens, cost). The UI, the report and the exports all read this one table.
 */
import { runCost } from '../compare/pricing';
import { median, percentile, wilsonInterval, type Interval } from '../metrics/stats';
import { scoreAgreementCells } from './agreement-score';
import { cellKey, type CellResult, type EngineColumn, type RunRecord } from './results';
import type { SuiteCase } from './suite';

export interface Accuracy {
  scored: number;
  passed: number;
  /** passed ÷ scored; null when nothing was scored. */
  accuracy: number | null;
  /** 95% Wilson interval; null when nothing was scored. */
  ci: Interval | null;
}

export interface Quantiles {
  p50: number | null;
  p95: number | null;
}

export interface ColumnTotals extends Accuracy {
  engineId: string;
  /** Cells with status done / error. */
  done: number;
  errors: number;
  /** Per category, in suite order of first appearance; every category of the suite is present. */
  perCategory: Record<string, Accuracy>;
  /** End-to-end time and TTFT of done cells (ms). */
  e2e: Quantiles;
  ttft: Quantiles;
  /** Median decode tokens/s of done cells. */
  decodeTps: number | null;
  /** Tokens of every cell with metrics (done or error): what was spent. */
  inputTokens: number;
  outputTokens: number;
  /** USD for those tokens; 0 for local engines; null when a hosted model has no price. */
  costUsd: number | null;
  /** Sum of end-to-end times of done cells (ms). */
  generationMsSum: number;
  /** Done cells of cases with a response schema: how many answered valid JSON, matched the schema, stopped incomplete. */
  structure: StructureTotals;
  /** Mean share of expected fields right over the done json-fields cells; null when there are none. */
  fieldAccuracy: number | null;
  /** Cells whose endpoint refused the output constraint (answered as plain text). */
  refused: number;
  /**
   * Local engines: the model worker's WASM memory at its peak (bytes), the largest of its load's
   * figure and every answer's `memoryPeakBytes` (WASM memory never shrinks); null when not measured.
   */
  memoryPeakBytes: number | null;
}

export interface StructureTotals {
  cases: number;
  valid: number;
  matches: number;
  incomplete: number;
  /** valid ÷ cases; null when no case has a schema. */
  validRate: number | null;
  matchRate: number | null;
}

export interface ResultsRow {
  case: SuiteCase;
  /** One per engine, in record order; null where the cell has not run. */
  cells: (CellResult | null)[];
}

export interface ResultsTable {
  head: { engines: EngineColumn[] };
  body: ResultsRow[];
  /** One per engine, in record order. */
  totals: ColumnTotals[];
  /** The suite's categories in order of first appearance. */
  categories: string[];
}

function accuracy(scored: number, passed: number): Accuracy {
  return { scored, passed, accuracy: scored > 0 ? passed / scored : null, ci: wilsonInterval(passed, scored) };
}

function cellMap(record: RunRecord): Map<string, CellResult> {
  const m = new Map<string, CellResult>();
  for (const c of record.cells) m.set(cellKey(c.caseId, c.engineId), c);
  return m;
}

function totalsFor(engine: EngineColumn, record: RunRecord, cells: (CellResult | null)[], categories: string[]): ColumnTotals {
  let done = 0;
  let errors = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd: number | null = 0;
  let generationMsSum = 0;
  const e2e: number[] = [];
  const ttft: number[] = [];
  const decode: number[] = [];
  const cat = new Map<string, { scored: number; passed: number }>(categories.map((c) => [c, { scored: 0, passed: 0 }]));
  let scored = 0;
  let passed = 0;
  const st = { cases: 0, valid: 0, matches: 0, incomplete: 0 };
  const fieldScores: number[] = [];
  let refused = 0;
  const loadMemory = record.loads.find((l) => l.engineId === engine.id)?.load?.memory?.wasmHeapBytes ?? null;
  let memoryPeakBytes: number | null = loadMemory;
  cells.forEach((cell, i) => {
    if (!cell) return;
    const sc = record.suite.cases[i] as SuiteCase;
    const mem = cell.metrics?.memoryPeakBytes;
    if (typeof mem === 'number') memoryPeakBytes = Math.max(memoryPeakBytes ?? 0, mem);
    if (cell.metrics) {
      inputTokens += cell.metrics.inputTokens;
      outputTokens += cell.metrics.outputTokens;
      const cost = runCost(cell.metrics, record.prices);
      costUsd = costUsd === null || cost === null ? null : costUsd + cost;
    }
    if (cell.status === 'error') {
      errors++;
      return;
    }
    done++;
    if (cell.constraintRefused) refused++;
    if (cell.structure) {
      st.cases++;
      if (cell.structure.valid) st.valid++;
      if (cell.structure.matches) st.matches++;
      if (cell.structure.incomplete) st.incomplete++;
    }
    if (sc.scorer.type === 'json-fields' && cell.score) fieldScores.push(cell.score.score);
    if (cell.metrics) {
      e2e.push(cell.metrics.e2eMs);
      generationMsSum += cell.metrics.e2eMs;
      if (cell.metrics.ttftMs !== null) ttft.push(cell.metrics.ttftMs);
      if (cell.metrics.decodeTps !== null) decode.push(cell.metrics.decodeTps);
    }
    if (cell.score) {
      scored++;
      const c = cat.get(sc.category);
      if (c) c.scored++;
      if (cell.score.pass) {
        passed++;
        if (c) c.passed++;
      }
    }
  });
  // A hosted engine with no cell yet: the cost is known to be 0 only if its model has a price.
  if (engine.kind === 'hosted' && inputTokens === 0 && outputTokens === 0 && costUsd === 0) {
    costUsd = runCost({ engine: 'hosted', model: engine.model, inputTokens: 0, outputTokens: 0 }, record.prices);
  }
  const perCategory: Record<string, Accuracy> = {};
  for (const [name, c] of cat) perCategory[name] = accuracy(c.scored, c.passed);
  return {
    engineId: engine.id,
    done,
    errors,
    ...accuracy(scored, passed),
    perCategory,
    e2e: { p50: percentile(e2e, 50), p95: percentile(e2e, 95) },
    ttft: { p50: percentile(ttft, 50), p95: percentile(ttft, 95) },
    decodeTps: median(decode),
    inputTokens,
    outputTokens,
    costUsd,
    generationMsSum,
    structure: { ...st, validRate: st.cases ? st.valid / st.cases : null, matchRate: st.cases ? st.matches / st.cases : null },
    fieldAccuracy: fieldScores.length ? fieldScores.reduce((a, b) => a + b, 0) / fieldScores.length : null,
    refused,
    memoryPeakBytes,
  };
}

/**
 * The promptfoo-style table: a head of engine columns, a body row per case in suite order with a
 * cell per engine in record order (null where it has not run), and totals per engine. Error cells
 * count as errors, never as scored; a judge-scored cell counts like any other once it has a score.
 * Cells for cases or engines not in the record are ignored.
 */
export function buildResultsTable(record: RunRecord): ResultsTable {
  const map = cellMap(record);
  const engines = record.engines;
  const body: ResultsRow[] = record.suite.cases.map((c) => ({ case: c, cells: engines.map((e) => map.get(cellKey(c.id, e.id)) ?? null) }));
  scoreAgreementCells(engines, body);
  const categories = [...new Set(record.suite.cases.map((c) => c.category))];
  const totals = engines.map((e, j) =>
    totalsFor(
      e,
      record,
      body.map((row) => row.cells[j] ?? null),
      categories,
    ),
  );
  return { head: { engines }, body, totals, categories };
}

/** Cells still to run, in suite order then engine order: missing ones and errors (resume retries them). */
export function pendingCells(record: RunRecord): { caseId: string; engineId: string }[] {
  const map = cellMap(record);
  const out: { caseId: string; engineId: string }[] = [];
  for (const c of record.suite.cases) {
    for (const e of record.engines) {
      if (map.get(cellKey(c.id, e.id))?.status !== 'done') out.push({ caseId: c.id, engineId: e.id });
    }
  }
  return out;
}
