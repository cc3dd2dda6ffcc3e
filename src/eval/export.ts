/**
 * Exports of a results record: JSON (the record itself, re-importable with parseRunRecord), CSV
 * (one row per case × engine, for spreadsheets) and Markdown (a summary to paste into a GitHub
 * issue or pull request). Pure: strings in, strings out; saving them is the caller's business.
 *
 * CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
 * return) get a leading single quote: model outputs and suite texts are untrusted.
 */
import Papa from 'papaparse';
import { fmtUsd, runCost } from '../compare/pricing';
import { suiteAgreement, suiteAgreementMarkdown } from './agreement';
import { fmtBytes, fmtLoadMemory, fmtMs, fmtTps } from '../metrics/format';
import { type RunRecord } from './results';
import { buildResultsTable, type Accuracy } from './results-table';

/** Pretty JSON; `parseRunRecord(JSON.parse(toJson(r)))` deep-equals `r`. */
export function toJson(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export const CSV_COLUMNS = [
  'run',
  'case_id',
  'category',
  'engine',
  'model',
  'status',
  'pass',
  'score',
  'output',
  'expected',
  'ttft_ms',
  'e2e_ms',
  'decode_tps',
  'input_tokens',
  'output_tokens',
  'memory_peak_bytes',
  'cost_usd',
  'error',
] as const;

/** Neutralizes spreadsheet formulas in untrusted text: "=1+1" → "'=1+1". */
export function guardFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

const n = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : String(x));

/**
 * One row per case × engine in table order (suite order, then engine order); cells that have not
 * run appear with status "pending". `run` is the record's name.
 */
export function toCsv(record: RunRecord): string {
  const table = buildResultsTable(record);
  const data: string[][] = [];
  for (const row of table.body) {
    row.cells.forEach((cell, j) => {
      const engine = table.head.engines[j];
      if (!engine) return;
      const m = cell?.metrics ?? null;
      const text = [record.name, row.case.id, row.case.category, engine.label, engine.model].map(guardFormula);
      data.push([
        ...text,
        cell ? cell.status : 'pending',
        cell?.score ? String(cell.score.pass) : '',
        cell?.score ? String(cell.score.score) : '',
        guardFormula(cell?.output ?? ''),
        guardFormula(row.case.expected ?? ''),
        n(m?.ttftMs),
        n(m?.e2eMs),
        n(m?.decodeTps),
        n(m?.inputTokens),
        n(m?.outputTokens),
        n(m?.memoryPeakBytes),
        m ? n(runCost(m, record.prices)) : '',
        guardFormula(cell?.error ?? ''),
      ]);
    });
  }
  return Papa.unparse({ fields: [...CSV_COLUMNS], data }, { newline: '\r\n' });
}

/** Text for a Markdown table cell: HTML-escaped, pipes escaped, newlines as <br>, cut to `max`. */
export function mdCell(s: string, max = 200): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, '<br>');
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** "80.0% (49.0–94.3%), 8/10" or "—" when nothing was scored. */
export function fmtAccuracy(a: Accuracy): string {
  if (a.accuracy === null) return '—';
  const ci = a.ci ? ` (${(a.ci.low * 100).toFixed(1)}–${pct(a.ci.high)})` : '';
  return `${pct(a.accuracy)}${ci}, ${a.passed}/${a.scored}`;
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const MAX_FAILURES = 10;

/**
 * A summary for a GitHub issue or PR: title, suite, date and settings; a table with a row per engine
 * (accuracy with 95% Wilson CI, p50/p95 end-to-end latency, TTFT p50, decode tok/s, tokens, memory
 * peak, cost) and each local engine's measured load memory;
 * accuracy per category; and up to 10 failing cases.
 */
export function toMarkdown(record: RunRecord): string {
  const table = buildResultsTable(record);
  const engines = table.head.engines;
  const label = (j: number) => mdCell(engines[j]?.label ?? '', 80);
  const p = record.params;
  const out: string[] = [];
  out.push(`## ${mdCell(record.name, 200)}`, '');
  out.push(
    `**Suite:** ${mdCell(record.suite.name, 200)} (${record.suite.cases.length} cases) · **Date:** ${utc(record.createdAt)} · **Status:** ${record.status}`,
    `**Settings:** max new tokens ${p.maxNewTokens}, ${p.greedy ? 'greedy' : `temperature ${p.temperature}, top-p ${p.topP}, top-k ${p.topK}`}, repetition penalty ${p.repetitionPenalty}`,
    '',
  );
  out.push('| Engine | Model | Accuracy (95% CI) | Errors | Latency p50 | Latency p95 | TTFT p50 | Decode | Tokens in / out | Memory peak | Cost |');
  out.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  table.totals.forEach((t, j) => {
    const e = engines[j];
    if (!e) return;
    const where = [e.kind, e.device, e.dtype].filter(Boolean).join(', ');
    out.push(
      `| ${label(j)} (${mdCell(where, 60)}) | ${mdCell(e.model, 100)} | ${fmtAccuracy(t)} | ${t.errors} | ${fmtMs(t.e2e.p50)} | ${fmtMs(t.e2e.p95)} | ${fmtMs(t.ttft.p50)} | ${fmtTps(t.decodeTps)} | ${t.inputTokens} / ${t.outputTokens} | ${fmtBytes(t.memoryPeakBytes)} | ${fmtUsd(t.costUsd)} |`,
    );
  });
  // The load's measured memory (docs/metrics.md "Memory"), where one was recorded.
  const loadLines = engines.flatMap((e) => {
    const m = record.loads.find((l) => l.engineId === e.id)?.load?.memory;
    return m ? [`- ${mdCell(e.label, 80)}: ${mdCell(fmtLoadMemory(m), 300)}${m.note ? ` (${mdCell(m.note, 300)})` : ''}`] : [];
  });
  if (loadLines.length > 0) out.push('', '**Load memory:**', '', ...loadLines);
  if (table.totals.some((t) => t.structure.cases > 0)) {
    const pc = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);
    out.push('', '### JSON output', '', '| Engine | Constraint | Valid JSON | Matches schema | Incomplete | Field accuracy |', '|---|---|---:|---:|---:|---:|');
    table.totals.forEach((t, j) => {
      const s = t.structure;
      out.push(`| ${label(j)} | ${engines[j]?.constrained ? (t.refused ? `refused (${t.refused})` : 'schema') : 'none'} | ${pc(s.validRate)} (${s.valid}/${s.cases}) | ${pc(s.matchRate)} (${s.matches}/${s.cases}) | ${s.incomplete} | ${pc(t.fieldAccuracy)} |`);
    });
  }
  if (table.categories.length > 0 && engines.length > 0) {
    out.push('', '### Accuracy per category', '');
    out.push(`| Category | ${engines.map((_, j) => label(j)).join(' | ')} |`);
    out.push(`|---|${engines.map(() => '---:').join('|')}|`);
    for (const c of table.categories) {
      out.push(`| ${mdCell(c, 80)} | ${table.totals.map((t) => (t.perCategory[c] ? fmtAccuracy(t.perCategory[c]) : '—')).join(' | ')} |`);
    }
  }
  const failures: string[] = [];
  let failCount = 0;
  for (const row of table.body) {
    row.cells.forEach((cell, j) => {
      if (!cell || cell.status !== 'done' || !cell.score || cell.score.pass) return;
      failCount++;
      if (failures.length < MAX_FAILURES)
        failures.push(`| ${mdCell(row.case.id, 80)} | ${mdCell(row.case.category, 60)} | ${label(j)} | ${mdCell(row.case.expected ?? '—', 80)} | ${mdCell(cell.output, 120)} | ${mdCell(cell.score.detail, 120)} |`);
    });
  }
  if (failCount > 0) {
    out.push('', `### Failing cases (${failCount > MAX_FAILURES ? `first ${MAX_FAILURES} of ${failCount}` : failCount})`, '');
    out.push('| Case | Category | Engine | Expected | Output | Why |', '|---|---|---|---|---|---|', ...failures);
  }
  const agreement = suiteAgreement(record, table);
  if (agreement && agreement.rows.length > 0) out.push('', suiteAgreementMarkdown(agreement, `Agreement of ${agreement.local.label} with ${agreement.hosted.label} (hosted answers as references)`, 3).trimEnd());
  out.push('', '<sub>Made with SLM Playground. Accuracy intervals are 95% Wilson intervals; latency is end-to-end per case.</sub>', '');
  return out.join('\n');
}
