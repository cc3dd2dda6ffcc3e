/**
 * The results of running a suite on several engines: one record (saved, exported, re-imported) and
 * the pure table the UI and the exports are drawn from.
 *
 * The record holds everything needed to read it later without the app's state — the suite itself,
 * the engines' labels and models, the generation settings and the price table used — and nothing
 * secret: an engine column carries a base URL (http(s), no user name, password, query or fragment,
 * where keys sometimes hide), never a key or a header.
 *
 * Versioning: `version` is the record format version; `parseRunRecord()` migrates older versions
 * when there are any.
 */
import { z } from 'zod';
import { runCost, type Price } from '../compare/pricing';
import type { ChatMessage, FinishReason, GenerationParams } from '../engines/types';
import type { LoadMetrics, RunMetrics } from '../metrics/timing';
import { median, percentile, wilsonInterval, type Interval } from '../metrics/stats';
import { generationParamsSchema as generationSchema } from '../inference/params';
import { runMetricsSchema } from '../metrics/schema';
import type { ScoreResult } from './scorers';
import { scoreAgreementCells } from './agreement-score';
import { chatMessageSchema, describePathIssues, suiteSchema, zodIssues, type PathIssue, type Suite, type SuiteCase } from './suite';

export const RESULTS_FORMAT = 'slm-playground-results';
export const RESULTS_VERSION = 1;

/** Longest output (and judge message) a record keeps; the runner cuts longer ones. */
export const MAX_OUTPUT_CHARS = 1_000_000;

export interface EngineColumn {
  id: string;
  kind: 'local' | 'hosted';
  label: string;
  model: string;
  dtype?: string | null;
  device?: string | null;
  /** Base URL only (http(s), no credentials, query or fragment), never a key. */
  endpoint?: string | null;
}

export interface CellResult {
  caseId: string;
  engineId: string;
  status: 'done' | 'error';
  output: string;
  finishReason: FinishReason | null;
  metrics: RunMetrics | null;
  /** Null when not scored (a judge case not judged yet, or an error). */
  score: ScoreResult | null;
  /** For judge-scored cells: who judged, what it was asked and what it answered. */
  judge?: { engineId: string; messages: ChatMessage[]; verdict: string };
  error?: string;
  attempts: number;
  /** Epoch ms. */
  finishedAt: number;
}

export interface EngineLoad {
  engineId: string;
  load: LoadMetrics | null;
}

export interface RunRecord {
  format: typeof RESULTS_FORMAT;
  version: typeof RESULTS_VERSION;
  id: string;
  name: string;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  status: 'running' | 'stopped' | 'done';
  suite: Suite;
  engines: EngineColumn[];
  params: GenerationParams;
  /** The price table (USD per 1M tokens) the costs were computed with. */
  prices: Record<string, Price>;
  loads: EngineLoad[];
  cells: CellResult[];
}

// ——— schema ———

const num = z.number();
const id = z.string().min(1).max(200);

const baseUrl = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'must be an http(s) base URL without a user name, password, query or fragment');

const engineColumnSchema = z.strictObject({
  id,
  kind: z.enum(['local', 'hosted']),
  label: z.string().max(300),
  model: z.string().max(500),
  dtype: z.string().max(20).nullable().optional(),
  device: z.string().max(100).nullable().optional(),
  endpoint: baseUrl.nullable().optional(),
});

const loadMetricsSchema = z.strictObject({
  downloadMs: num.min(0),
  downloadBytes: z.number().int().min(0),
  fromCache: z.boolean(),
  sessionCreateMs: num.min(0),
  warmupMs: num.min(0),
  warmupTokens: z.number().int().min(0),
  totalMs: num.min(0),
});

const scoreSchema = z.strictObject({
  pass: z.boolean(),
  score: num.min(0).max(1),
  detail: z.string().max(2000),
});

const cellSchema = z.strictObject({
  caseId: id,
  engineId: id,
  status: z.enum(['done', 'error']),
  output: z.string().max(MAX_OUTPUT_CHARS),
  finishReason: z.enum(['stop', 'length', 'abort', 'content_filter', 'error']).nullable(),
  metrics: runMetricsSchema.nullable(),
  score: scoreSchema.nullable(),
  judge: z
    .strictObject({
      engineId: id,
      messages: z.array(chatMessageSchema.extend({ content: z.string().max(MAX_OUTPUT_CHARS) }).strict()).max(100),
      verdict: z.string().max(MAX_OUTPUT_CHARS),
    })
    .optional(),
  error: z.string().max(5000).optional(),
  attempts: z.number().int().min(0).max(1000),
  finishedAt: z.number().int().min(0),
});

const priceSchema = z.strictObject({ inputPerM: num.min(0), outputPerM: num.min(0) });

export const runRecordSchema = z
  .strictObject({
    format: z.literal(RESULTS_FORMAT),
    version: z.literal(RESULTS_VERSION),
    id,
    name: z.string().max(300),
    createdAt: z.number().int().min(0),
    updatedAt: z.number().int().min(0),
    status: z.enum(['running', 'stopped', 'done']),
    suite: suiteSchema,
    engines: z.array(engineColumnSchema).max(16),
    params: generationSchema.strict(),
    prices: z.record(z.string().max(200), priceSchema).refine((p) => Object.keys(p).length <= 500, 'at most 500 prices'),
    loads: z.array(z.strictObject({ engineId: id, load: loadMetricsSchema.nullable() })).max(16),
    cells: z.array(cellSchema).max(5_000 * 16),
  })
  .superRefine((r, ctx) => {
    const engineIds = new Set<string>();
    r.engines.forEach((e, i) => {
      if (engineIds.has(e.id)) ctx.addIssue({ code: 'custom', path: ['engines', i, 'id'], message: `duplicate engine id ${JSON.stringify(e.id)}` });
      engineIds.add(e.id);
    });
    r.loads.forEach((l, i) => {
      if (!engineIds.has(l.engineId)) ctx.addIssue({ code: 'custom', path: ['loads', i, 'engineId'], message: `unknown engine ${JSON.stringify(l.engineId)}` });
    });
    const caseIds = new Set(r.suite.cases.map((c) => c.id));
    const seen = new Set<string>();
    r.cells.forEach((c, i) => {
      if (!caseIds.has(c.caseId)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'caseId'], message: `unknown case ${JSON.stringify(c.caseId)}` });
      if (!engineIds.has(c.engineId)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'engineId'], message: `unknown engine ${JSON.stringify(c.engineId)}` });
      const key = cellKey(c.caseId, c.engineId);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['cells', i], message: `a second result for case ${JSON.stringify(c.caseId)} on engine ${JSON.stringify(c.engineId)}` });
      seen.add(key);
    });
  });

type Assignable<A extends B, B> = A;
export type _RecordChecks = [Assignable<z.infer<typeof runRecordSchema>, RunRecord>, Assignable<RunRecord, z.infer<typeof runRecordSchema>>];

export class RunRecordError extends Error {
  override name = 'RunRecordError';
  constructor(
    message: string,
    readonly issues: PathIssue[] = [],
  ) {
    super(message);
  }
}

/** Validates JSON as a results record; throws RunRecordError naming the first bad path. */
export function parseRunRecord(json: unknown): RunRecord {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RunRecordError('This is not an SLM Playground results file: expected a JSON object.');
  const { format, version } = json as { format?: unknown; version?: unknown };
  if (format !== RESULTS_FORMAT) throw new RunRecordError(`This is not an SLM Playground results file: "format" is ${JSON.stringify(format ?? null)}, expected "${RESULTS_FORMAT}".`);
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new RunRecordError('This results file has no format version.');
  if (version > RESULTS_VERSION) throw new RunRecordError(`These results were saved by a newer SLM Playground (results format ${version}; this app reads up to ${RESULTS_VERSION}).`);
  if (version < 1) throw new RunRecordError(`Unknown results format version ${version}.`);
  const r = runRecordSchema.safeParse(json);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new RunRecordError(`These results do not match the results format: ${describePathIssues(issues)}`, issues);
  }
  return r.data;
}

// ——— the table ———

export function cellKey(caseId: string, engineId: string): string {
  return `${caseId}\u0000${engineId}`;
}

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
  cells.forEach((cell, i) => {
    if (!cell) return;
    const sc = record.suite.cases[i] as SuiteCase;
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
