/**
 * Runs a suite: every pending (case, engine) cell, through the one ChatEngine interface.
 *
 * - Local engines share one lane and run one case at a time (two models in one browser would
 *   compete for the same cores and both numbers would be wrong).
 * - Each hosted engine has its own lane with `concurrency` requests in flight.
 * - Lanes run side by side. 429 / 5xx / timeouts / dropped streams are retried with exponential
 *   backoff, waiting exactly `Retry-After` when the server sends it; other errors end the cell
 *   as an error (resume retries error cells).
 * - Every finished cell is handed to `onCell` (the caller persists it) before the next starts on
 *   that lane, so a reload or a crash loses at most the cells in flight.
 * - Stop (the signal) ends every lane at once; a cell cut off by Stop is not recorded.
 * - Judge-scored cases are sent to the judge engine after the answer; its prompt and verdict are
 *   kept in the cell.
 * - Regex and JSON Schema cases are scored in the scoring sandbox the caller passes (a worker with
 *   a time limit per case), so a suite's catastrophic pattern fails its case instead of the page.
 */
import { HostedError, type HostedErrorCode } from '../engines/hosted/errors';
import type { ChatEngine, FinishReason, GenerationParams, RunResult } from '../engines/types';
import { jsonVerdict } from '../compare/json-verdict';
import { jsonInAnswer } from '../lib/json-answer';
import { buildJudgeMessages, parseJudgeVerdict } from './judge';
import { MAX_OUTPUT_CHARS, type CellResult, type CellStructure, type EngineColumn, type RunRecord } from './results';
import { pendingCells } from './results-table';
import { scoreOutput, type ScoreResult } from './scorers';
import type { SuiteCase } from './suite';
import type { ScoringSandbox } from './sandbox/protocol';
import { errorText } from '../lib/errors';

export interface RunnerEngine {
  column: EngineColumn;
  engine: ChatEngine;
}

export interface RunnerOptions {
  record: RunRecord;
  engines: RunnerEngine[];
  /** The engine that judges 'judge' cases; without one those cells are left unscored. */
  judge?: RunnerEngine | null;
  /** Requests in flight per hosted engine (default 4). */
  hostedConcurrency?: number;
  /** Retries after the first attempt on retryable errors (default 3). */
  maxRetries?: number;
  /** First backoff delay; doubles per retry (default 1 s, at most 30 s). */
  baseDelayMs?: number;
  /** Where regex and json-schema cases are scored (the caller owns it and disposes of it). */
  sandbox: ScoringSandbox;
  signal: AbortSignal;
  /** Called with each finished cell, in completion order; awaited before the lane goes on. */
  onCell: (cell: CellResult) => void | Promise<void>;
  /** A cell started (for the progress display). */
  onStart?: (caseId: string, engineId: string) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface RunnerSummary {
  stopped: boolean;
  /** Cells finished by this call (done or error). */
  finished: number;
  /** Wall time of this call (ms). */
  wallMs: number;
}

export const DEFAULT_HOSTED_CONCURRENCY = 4;
export const DEFAULT_MAX_RETRIES = 3;
const MAX_BACKOFF_MS = 30_000;
const JUDGE_PARAMS: Partial<GenerationParams> = { greedy: true, maxNewTokens: 256 };

const RETRYABLE: readonly HostedErrorCode[] = ['rate_limited', 'server_error', 'timeout', 'network_lost', 'truncated_stream'];

export function isRetryable(e: unknown): e is HostedError {
  return e instanceof HostedError && RETRYABLE.includes(e.code);
}

/** Delay before retry number `retry` (1-based): the server's Retry-After, else base × 2^(retry−1). */
export function backoffMs(e: HostedError, retry: number, baseDelayMs: number): number {
  if (e.retryAfterMs !== undefined) return Math.min(e.retryAfterMs, 5 * 60_000);
  return Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** (retry - 1));
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function message(e: unknown): string {
  return errorText(e);
}

const cut = (s: string) => (s.length > MAX_OUTPUT_CHARS ? s.slice(0, MAX_OUTPUT_CHARS) : s);

class Stopped extends Error {}

/** The name the response schema goes out under (OpenAI's json_schema.name; the same for every case). */
export const CASE_SCHEMA_NAME = 'response';

/**
 * What one cell is asked with: the run's settings, as plain text — a suite's own Generation-tab
 * format never leaks into it — except on a constrained column, where a case with a response schema
 * is sent with that schema as the output constraint.
 */
export function cellParams(c: SuiteCase, column: EngineColumn, params: GenerationParams): GenerationParams {
  const { responseFormat: _ignored, ...base } = params;
  if (column.constrained && c.schema) return { ...base, responseFormat: { type: 'json_schema', name: CASE_SCHEMA_NAME, schema: c.schema } };
  return base;
}

/** The structure verdict of an answer to a case with a response schema; the schema is matched in the sandbox. */
export async function structureOf(schema: Record<string, unknown>, output: string, finish: FinishReason, sandbox: ScoringSandbox): Promise<CellStructure> {
  const got = jsonInAnswer(output);
  if (!got) {
    const v = jsonVerdict(output, finish, { type: 'json_object' }, () => null);
    return { valid: false, incomplete: v.incomplete, matches: null, detail: v.detail };
  }
  const r = await sandbox.validateJsonSchema(schema, got.value);
  if (r.status === 'done') return { valid: true, incomplete: false, matches: r.value === null, detail: r.value ?? '' };
  return { valid: true, incomplete: false, matches: false, detail: r.status === 'timeout' ? `the schema check took too long (over ${r.limitMs} ms)` : `could not be checked: ${r.message}`.slice(0, 300) };
}

/** The hosted engine's note that the endpoint refused the constraint and answered as plain text. */
function constraintRefusal(r: RunResult): string | undefined {
  return r.formatFallback ? r.formatFallback.slice(0, 2000) : undefined;
}

/** One cell: generate (with retries), score, judge. Throws Stopped when the run is stopped. */
async function runCell(c: SuiteCase, e: RunnerEngine, opts: RunnerOptions): Promise<CellResult> {
  const maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
  const sleep = opts.sleep ?? abortableSleep;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const r = await e.engine.generate({ messages: c.messages, params: cellParams(c, e.column, opts.record.params), signal: opts.signal });
      if (opts.signal.aborted || r.finishReason === 'abort') throw new Stopped();
      const output = cut(r.text);
      let score: ScoreResult | null = await scoreOutput(c, output, opts.sandbox);
      const structure = c.schema ? await structureOf(c.schema, output, r.finishReason, opts.sandbox) : undefined;
      const refused = constraintRefusal(r);
      let judge: CellResult['judge'];
      if (c.scorer.type === 'judge' && opts.judge) {
        const messages = buildJudgeMessages(c.scorer.rubric, c, output);
        try {
          const v = await opts.judge.engine.generate({ messages, params: { ...opts.record.params, ...JUDGE_PARAMS }, signal: opts.signal });
          if (opts.signal.aborted || v.finishReason === 'abort') throw new Stopped();
          score = parseJudgeVerdict(v.text);
          judge = { engineId: opts.judge.column.id, messages, verdict: cut(v.text) };
        } catch (je) {
          if (je instanceof Stopped) throw je;
          score = null;
          judge = { engineId: opts.judge.column.id, messages, verdict: `The judge failed: ${message(je)}` };
        }
      }
      return {
        caseId: c.id,
        engineId: e.column.id,
        status: 'done',
        output,
        finishReason: r.finishReason,
        metrics: r.metrics,
        score,
        ...(judge ? { judge } : {}),
        ...(structure ? { structure } : {}),
        ...(refused ? { constraintRefused: refused } : {}),
        attempts,
        finishedAt: Date.now(),
      };
    } catch (err) {
      if (err instanceof Stopped || opts.signal.aborted) throw new Stopped();
      if (isRetryable(err) && attempts <= maxRetries) {
        await sleep(backoffMs(err, attempts, opts.baseDelayMs ?? 1000), opts.signal);
        if (opts.signal.aborted) throw new Stopped();
        continue;
      }
      return {
        caseId: c.id,
        engineId: e.column.id,
        status: 'error',
        output: err instanceof HostedError && err.partialText ? cut(err.partialText) : '',
        finishReason: 'error',
        metrics: null,
        score: null,
        error: message(err),
        attempts,
        finishedAt: Date.now(),
      };
    }
  }
}

/** Runs every pending cell of `record` (missing or error) and returns when all are done or stopped. */
export async function runSuite(opts: RunnerOptions): Promise<RunnerSummary> {
  const t0 = performance.now();
  const cases = new Map(opts.record.suite.cases.map((c) => [c.id, c]));
  const byId = new Map(opts.engines.map((e) => [e.column.id, e]));
  const pending = pendingCells(opts.record).filter((p) => byId.has(p.engineId));
  let finished = 0;

  // One queue per lane: all local engines share 'local'; each hosted engine has its own.
  const lanes = new Map<string, { jobs: { c: SuiteCase; e: RunnerEngine }[]; width: number }>();
  for (const p of pending) {
    const e = byId.get(p.engineId) as RunnerEngine;
    const c = cases.get(p.caseId) as SuiteCase;
    const lane = e.engine.kind === 'local' ? 'local' : `hosted:${e.column.id}`;
    const width = e.engine.kind === 'local' ? 1 : Math.max(1, opts.hostedConcurrency ?? DEFAULT_HOSTED_CONCURRENCY);
    const l = lanes.get(lane) ?? { jobs: [], width };
    l.jobs.push({ c, e });
    lanes.set(lane, l);
  }

  let failure: unknown = null;
  const worker = async (jobs: { c: SuiteCase; e: RunnerEngine }[]) => {
    for (let job = jobs.shift(); job && !opts.signal.aborted && failure === null; job = jobs.shift()) {
      opts.onStart?.(job.c.id, job.e.column.id);
      let cell: CellResult;
      try {
        cell = await runCell(job.c, job.e, opts);
      } catch (e) {
        if (e instanceof Stopped) return;
        failure ??= e;
        return;
      }
      try {
        await opts.onCell(cell);
      } catch (e) {
        failure ??= e; // could not persist: stop rather than run cells whose results would be lost
        return;
      }
      finished++;
    }
  };
  const workers: Promise<void>[] = [];
  for (const l of lanes.values()) for (let i = 0; i < l.width; i++) workers.push(worker(l.jobs));
  await Promise.all(workers);
  if (failure !== null) throw failure;
  return { stopped: opts.signal.aborted, finished, wallMs: performance.now() - t0 };
}
