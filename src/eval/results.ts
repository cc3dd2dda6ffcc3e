/**
 * The results of running a suite on several engines: one record (saved, exported, re-imported).
 * The pure table the UI and the exports are drawn from is results-table.ts.
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
import type { Price } from '../compare/pricing';
import type { ChatMessage, FinishReason, GenerationParams } from '../engines/types';
import type { LoadMetrics, RunMetrics } from '../metrics/timing';
import { generationParamsSchema as generationSchema } from '../inference/params';
import { loadMemorySchema, runMetricsSchema } from '../metrics/schema';
import type { ScoreResult } from './scorers';
import { chatMessageSchema, describePathIssues, suiteSchema, zodIssues, type PathIssue, type Suite } from './suite';

import { RESULTS_FORMAT, RESULTS_VERSION } from './results-format';

export { RESULTS_FORMAT, RESULTS_VERSION } from './results-format';

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
  /** Cases with a response schema are sent with it as the output constraint (results format 2). */
  constrained?: boolean;
}

/** The structure of a cell's answer to a case with a response schema (compare/json-verdict.ts). */
export interface CellStructure {
  valid: boolean;
  incomplete: boolean;
  /** Null when the answer is not valid JSON. */
  matches: boolean | null;
  detail: string;
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
  /** Cases with a response schema: valid JSON, matches the schema, or incomplete. */
  structure?: CellStructure;
  /** The endpoint refused the output constraint and answered as plain text: its message. */
  constraintRefused?: string;
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
  constrained: z.boolean().optional(),
});

const loadMetricsSchema = z.strictObject({
  downloadMs: num.min(0),
  downloadBytes: z.number().int().min(0),
  fromCache: z.boolean(),
  sessionCreateMs: num.min(0),
  warmupMs: num.min(0),
  warmupTokens: z.number().int().min(0),
  totalMs: num.min(0),
  memory: loadMemorySchema.nullable().optional(),
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
  structure: z.strictObject({ valid: z.boolean(), incomplete: z.boolean(), matches: z.boolean().nullable(), detail: z.string().max(2000) }).optional(),
  constraintRefused: z.string().max(2000).optional(),
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
  // Version 1 had no constrained columns and no structure verdicts: the same record, read as 2.
  const r = runRecordSchema.safeParse(version === 1 ? migrateV1(json as Record<string, unknown>) : json);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new RunRecordError(`These results do not match the results format: ${describePathIssues(issues)}`, issues);
  }
  return r.data;
}

/** A version 1 record as version 2: none of its columns was constrained, so nothing else changes. A v1 file with a v2 field is refused (strict). */
function migrateV1(json: Record<string, unknown>): unknown {
  const engines = Array.isArray(json['engines']) ? json['engines'] : [];
  const cells = Array.isArray(json['cells']) ? json['cells'] : [];
  const v2Field = engines.some((e) => e && typeof e === 'object' && 'constrained' in e) || cells.some((c) => c && typeof c === 'object' && ('structure' in c || 'constraintRefused' in c));
  return v2Field ? { ...json, version: 1 } : { ...json, version: RESULTS_VERSION };
}

/** The key of one cell (a case on an engine) in maps and sets. */
export function cellKey(caseId: string, engineId: string): string {
  return `${caseId}\u0000${engineId}`;
}
