/**
 * Turns a user's file into a Suite: JSONL (one case per line, including the held-out format of
 * tools/slm/data/heldout.jsonl), CSV with a header row, or a whole suite in the suite JSON format.
 *
 * Files are hand-made, so errors point where the user has to look: the physical line (JSONL), the
 * line a CSV record starts on, and the field — `Line 7, field "tolerance": expected a number, got
 * "abc"`. Up to 20 problems are collected and reported together (the first one in the message),
 * so one import attempt shows most of what to fix. Whole-suite JSON files report paths instead of
 * lines (`Field "cases[3].scorer.pattern": …`).
 *
 * Record fields (JSONL keys or CSV columns): id, category (or family), prompt + optional system,
 * or messages; expected (or answer); scorer — a name, with its parameters in pattern, flags,
 * tolerance, schema, rubric, or a whole ScorerSpec object; response_schema, the case's own JSON
 * Schema (the suite format's case `schema`: the output constraint). Defaults: id `case-<line>`, category
 * "general", scorer "exact" when there is an expected answer, else "agreement" (a prompt alone: the
 * local answer is scored by its agreement with the hosted one), tolerance 0. Unknown fields are
 * errors (a misspelt "expeted" would otherwise silently drop the answer).
 */
import Papa from 'papaparse';
import { parseSuite, SUITE_FORMAT, SUITE_LIMITS, SUITE_VERSION, SuiteError, type Suite, type SuiteCase } from './suite';

import { IMPORT_LIMITS, Issues, SuiteImportError, TooManyIssues } from './import-issues';
import { buildCase, describeValue, finishCase, RECORD_FIELDS } from './import-record';

export { formatImportIssue, IMPORT_LIMITS, SuiteImportError, type ImportIssue } from './import-issues';

function fail(message: string, line: number | null = null, field: string | null = null): never {
  throw new SuiteImportError([{ line, field, message }]);
}

// ——— file level ———

export interface SuiteMeta {
  id: string;
  name: string;
  source?: string;
}

/** Suite id, name and source from a file name: "evals/My Suite.jsonl" → id "my-suite", name "My Suite". */
export function metaFromFileName(fileName: string): SuiteMeta {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const name = base.replace(/\.[^.]*$/, '').trim().slice(0, SUITE_LIMITS.maxNameChars) || 'Imported suite';
  const id =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'suite';
  return { id, name, ...(fileName ? { source: fileName.slice(0, SUITE_LIMITS.maxSourceChars) } : {}) };
}

function checkSize(text: string): void {
  const limitMb = IMPORT_LIMITS.maxBytes / (1024 * 1024);
  const tooBig = (bytes: number) => fail(`The file is too large (${(bytes / (1024 * 1024)).toFixed(1)} MB; the limit is ${limitMb} MB).`);
  if (text.length > IMPORT_LIMITS.maxBytes) tooBig(text.length);
  // Up to 3 UTF-8 bytes per UTF-16 unit: only measure when it could matter.
  if (text.length * 3 > IMPORT_LIMITS.maxBytes) {
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > IMPORT_LIMITS.maxBytes) tooBig(bytes);
  }
}

function tooManyCases(n: number): never {
  return fail(`Too many cases: this file has ${n.toLocaleString('en-US')}; the limit is ${IMPORT_LIMITS.maxCases.toLocaleString('en-US')}.`);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Line of a JSON.parse error, from "(line 3 column 1)" or "at position 10". */
function jsonErrorLine(message: string, text: string): number | null {
  const l = /line (\d+)/.exec(message);
  if (l) return Number(l[1]);
  const p = /position (\d+)/.exec(message);
  if (p) return text.slice(0, Number(p[1])).split('\n').length;
  return null;
}

/** A whole suite in the suite JSON format. */
export function importSuiteJson(text: string): Suite {
  checkSize(text);
  const t = stripBom(text);
  let data: unknown;
  try {
    data = JSON.parse(t);
  } catch (e) {
    const msg = (e as Error).message;
    fail(`not valid JSON (${msg})`, jsonErrorLine(msg, t));
  }
  return suiteFromJson(data);
}

function suiteFromJson(data: unknown): Suite {
  try {
    return parseSuite(data);
  } catch (e) {
    if (!(e instanceof SuiteError)) throw e;
    if (e.issues.length === 0) fail(e.message);
    throw new SuiteImportError(e.issues.slice(0, IMPORT_LIMITS.maxErrors).map((i) => ({ line: null, field: i.path || null, message: i.message })));
  }
}

/**
 * Imports a file, choosing the reader by extension and content: `.csv`/`.tsv`-less CSV, `.jsonl`/
 * `.ndjson` JSONL, `.json` a whole suite (or JSONL, when it is one object per line); anything else
 * is sniffed (starts with `{` → JSON/JSONL, otherwise CSV). Throws SuiteImportError.
 */
export function importSuiteFile(name: string, text: string): Suite {
  checkSize(text);
  const t = stripBom(text);
  const meta = metaFromFileName(name);
  const ext = /\.([^./\\]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  if (t.trim() === '') fail('The file is empty: it holds no cases.');
  if (ext === 'csv') return importCsv(t, meta);
  if (ext !== 'jsonl' && ext !== 'ndjson' && ext !== 'json' && !t.trimStart().startsWith('{') && !t.trimStart().startsWith('[')) return importCsv(t, meta);
  // JSON-ish: a whole suite parses as one value that names the format.
  let whole: unknown;
  let wholeOk = false;
  try {
    whole = JSON.parse(t);
    wholeOk = true;
  } catch {
    // not one JSON value: JSONL (or broken JSON, below)
  }
  if (wholeOk) {
    if (Array.isArray(whole)) fail('This JSON file is an array: use JSONL (one case object per line) or the suite format ({"format": "slm-playground-suite", …}).', 1);
    if (typeof whole === 'object' && whole !== null && ('format' in whole || 'cases' in whole)) return suiteFromJson(whole);
    return importJsonl(t, meta);
  }
  if (ext === 'json' && !/^\s*\{[^\n]*\}\s*$/m.test(t)) return importSuiteJson(t);
  return importJsonl(t, meta);
}

function assemble(cases: { c: SuiteCase; line: number }[], meta: SuiteMeta, issues: Issues): Suite {
  const first = new Map<string, number>();
  for (const { c, line } of cases) {
    const l = first.get(c.id);
    if (l !== undefined) issues.add(line, 'id', `duplicate id ${JSON.stringify(c.id)} (first used on line ${l})`);
    else first.set(c.id, line);
  }
  if (issues.count > 0) throw new SuiteImportError(issues.list);
  if (cases.length === 0) fail('The file holds no cases.');
  const suite = { format: SUITE_FORMAT, version: SUITE_VERSION, id: meta.id, name: meta.name, ...(meta.source !== undefined ? { source: meta.source } : {}), cases: cases.map((x) => x.c) };
  return suiteFromJson(suite);
}

function withIssues<T>(run: (issues: Issues) => T): T {
  const issues = new Issues();
  try {
    return run(issues);
  } catch (e) {
    if (e instanceof TooManyIssues) throw new SuiteImportError(issues.list);
    throw e;
  }
}

// ——— JSONL ———

/** One case per line; blank lines are skipped; line numbers are physical lines. */
export function importJsonl(text: string, meta: SuiteMeta = metaFromFileName('')): Suite {
  checkSize(text);
  const lines = stripBom(text).split(/\r\n|\n|\r/);
  const nonBlank = lines.reduce((n, l) => (l.trim() === '' ? n : n + 1), 0);
  if (nonBlank === 0) fail('The file is empty: it holds no cases.');
  if (nonBlank > IMPORT_LIMITS.maxCases) tooManyCases(nonBlank);
  return withIssues((issues) => {
    const cases: { c: SuiteCase; line: number }[] = [];
    lines.forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '') return;
      let rec: unknown;
      try {
        rec = JSON.parse(raw);
      } catch (e) {
        issues.add(line, null, `not valid JSON (${(e as Error).message})`);
        return;
      }
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
        issues.add(line, null, `expected a JSON object, got ${describeValue(rec)}`);
        return;
      }
      const built = buildCase(rec as Record<string, unknown>, line, false, issues);
      const c = built && finishCase(built, line, issues);
      if (c) cases.push({ c, line });
    });
    return assemble(cases, meta, issues);
  });
}

// ——— CSV ———

const CSV_COLUMNS: readonly string[] = RECORD_FIELDS;

/**
 * CSV with a header row naming the columns (any order, case-insensitive): id, category (or family),
 * prompt, system, messages (JSON text), expected (or answer), scorer, pattern, flags, tolerance,
 * schema (JSON text), rubric, response_schema (JSON text). Quoted fields may hold commas, quotes ("") and newlines; empty cells
 * count as absent. A record's line is the line it starts on.
 */
export function importCsv(text: string, meta: SuiteMeta = metaFromFileName('')): Suite {
  checkSize(text);
  const t = stripBom(text);
  if (t.trim() === '') fail('The file is empty: it holds no cases.');
  const rows: { fields: string[]; line: number; error: string | null }[] = [];
  // Line numbers from Papa's cursor (the offset after each row), counted incrementally.
  let pos = 0;
  let lineAtPos = 1;
  Papa.parse<string[]>(t, {
    header: false,
    delimiter: ',',
    skipEmptyLines: 'greedy',
    step: (r) => {
      let start = pos;
      while (start < t.length && /[\s,]/.test(t[start] ?? '')) start++;
      for (let k = pos; k < start; k++) if (t[k] === '\n' || (t[k] === '\r' && t[k + 1] !== '\n')) lineAtPos++;
      const line = lineAtPos;
      const end = r.meta.cursor;
      for (let k = start; k < end; k++) if (t[k] === '\n' || (t[k] === '\r' && t[k + 1] !== '\n')) lineAtPos++;
      pos = end;
      const err = r.errors.find((e) => e.type === 'Quotes');
      rows.push({ fields: r.data, line, error: err ? (err.code === 'MissingQuotes' ? 'a quoted field is not closed (missing ")' : err.message) : null });
    },
  });
  const [header, ...records] = rows;
  if (!header) fail('The file is empty: it holds no cases.');
  if (records.length > IMPORT_LIMITS.maxCases) tooManyCases(records.length);
  return withIssues((issues) => {
    const columns = header.fields.map((f) => f.trim().toLowerCase());
    if (!columns.some((c) => CSV_COLUMNS.includes(c)))
      fail(`The first row must be a header naming the columns (${CSV_COLUMNS.join(', ')}); got ${columns.slice(0, 5).map((c) => JSON.stringify(c)).join(', ')}.`, header.line);
    const seen = new Set<string>();
    columns.forEach((c) => {
      if (!CSV_COLUMNS.includes(c)) issues.add(header.line, c, `unknown column (known: ${CSV_COLUMNS.join(', ')})`);
      else if (seen.has(c)) issues.add(header.line, c, 'this column appears twice');
      seen.add(c);
    });
    if (!seen.has('prompt') && !seen.has('messages')) issues.add(header.line, 'prompt', 'the header needs a "prompt" (or "messages") column');
    if (issues.count > 0) throw new SuiteImportError(issues.list);
    if (records.length === 0) fail('The file has a header but no cases.');
    const cases: { c: SuiteCase; line: number }[] = [];
    for (const row of records) {
      if (row.error) {
        issues.add(row.line, null, row.error);
        continue;
      }
      if (row.fields.length !== columns.length) {
        issues.add(row.line, null, `this row has ${row.fields.length} fields but the header has ${columns.length} (a comma inside a field needs "quotes")`);
        continue;
      }
      const rec: Record<string, unknown> = {};
      columns.forEach((c, i) => {
        const v = row.fields[i] ?? '';
        if (v.trim() !== '') rec[c] = v;
      });
      const built = buildCase(rec, row.line, true, issues);
      const c = built && finishCase(built, row.line, issues);
      if (c) cases.push({ c, line: row.line });
    }
    return assemble(cases, meta, issues);
  });
}
