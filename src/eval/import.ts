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
 * tolerance, schema, rubric, or a whole ScorerSpec object. Defaults: id `case-<line>`, category
 * "general", scorer "exact" when there is an expected answer, else "agreement" (a prompt alone: the
 * local answer is scored by its agreement with the hosted one), tolerance 0. Unknown fields are
 * errors (a misspelt "expeted" would otherwise silently drop the answer).
 */
import Papa from 'papaparse';
import { parseSuite, SCORER_TYPES, SUITE_FORMAT, SUITE_LIMITS, SUITE_VERSION, SuiteError, suiteCaseSchema, zodIssueParts, formatPath, type ScorerType, type Suite, type SuiteCase } from './suite';
import type { ChatMessage } from '../engines/types';

export const IMPORT_LIMITS = {
  /** UTF-8 bytes of the file's text. */
  maxBytes: 5 * 1024 * 1024,
  maxCases: SUITE_LIMITS.maxCases,
  /** Problems collected before giving up. */
  maxErrors: 20,
} as const;

export interface ImportIssue {
  /** 1-based line in the file (JSONL: the physical line; CSV: where the record starts); null when not line-based. */
  line: number | null;
  /** The field as the file names it ("tolerance", "answer", "scorer.pattern", "cases[3].id"); null for the whole line. */
  field: string | null;
  message: string;
}

export function formatImportIssue(i: ImportIssue): string {
  if (i.line !== null) return `Line ${i.line}${i.field !== null ? `, field "${i.field}"` : ''}: ${i.message}`;
  if (i.field !== null) return `Field "${i.field}": ${i.message}`;
  return i.message;
}

export class SuiteImportError extends Error {
  override name = 'SuiteImportError';
  /** The first problem's line and field (also in `issues[0]`). */
  readonly line: number | null;
  readonly field: string | null;
  constructor(readonly issues: ImportIssue[]) {
    const first = issues[0] ?? { line: null, field: null, message: 'The file could not be imported.' };
    const more = issues.length - 1;
    super(`${formatImportIssue(first)}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'}${issues.length >= IMPORT_LIMITS.maxErrors ? `; stopped after ${IMPORT_LIMITS.maxErrors}` : ''})` : ''}`);
    this.line = first.line;
    this.field = first.field;
  }
}

/** Thrown internally once maxErrors problems are collected. */
class TooManyIssues extends Error {}

class Issues {
  readonly list: ImportIssue[] = [];
  add(line: number | null, field: string | null, message: string): void {
    this.list.push({ line, field, message });
    if (this.list.length >= IMPORT_LIMITS.maxErrors) throw new TooManyIssues();
  }
  get count(): number {
    return this.list.length;
  }
}

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

// ——— one record (a JSONL object or a CSV row) → a case ———

const RECORD_FIELDS = ['id', 'category', 'family', 'prompt', 'system', 'messages', 'expected', 'answer', 'scorer', 'pattern', 'flags', 'tolerance', 'schema', 'rubric'] as const;
type RecordField = (typeof RECORD_FIELDS)[number];
const SCORER_PARAMS = ['pattern', 'flags', 'tolerance', 'schema', 'rubric'] as const;
type ScorerParam = (typeof SCORER_PARAMS)[number];
const PARAM_OWNER: Record<ScorerParam, ScorerType> = { pattern: 'regex', flags: 'regex', tolerance: 'numeric', schema: 'json-schema', rubric: 'judge' };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

interface Built {
  caseDraft: Record<string, unknown>;
  /** How the file names each part, to report zod's paths as the user's fields. */
  names: { expected: string; category: string; scorerIsName: boolean; fromPrompt: boolean; hasSystem: boolean };
}

/**
 * Builds a case from one record, reporting problems as the file names its fields. `csv` means
 * every value is text (empty cells were dropped): numbers and JSON (messages, schema, scorer
 * objects) are read from the text.
 */
function buildCase(rec: Record<string, unknown>, line: number, csv: boolean, issues: Issues): Built | null {
  const before = issues.count;
  const bad = (field: string, message: string) => issues.add(line, field, message);
  for (const k of Object.keys(rec)) {
    if (!(RECORD_FIELDS as readonly string[]).includes(k)) bad(k, `unknown field (known: ${RECORD_FIELDS.join(', ')})`);
  }
  const get = (k: RecordField): unknown => (Object.hasOwn(rec, k) && rec[k] !== undefined ? rec[k] : undefined);
  const jsonText = (k: RecordField, v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch (e) {
      bad(k, `not valid JSON (${(e as Error).message})`);
      return undefined;
    }
  };

  // id
  let id: string = `case-${line}`;
  const rawId = get('id');
  if (typeof rawId === 'string') id = csv ? rawId.trim() : rawId;
  else if (typeof rawId === 'number' && Number.isInteger(rawId)) id = String(rawId);
  else if (rawId !== undefined && rawId !== null) bad('id', `expected a string, got ${describe(rawId)}`);

  // category / family
  let category = 'general';
  const categoryKey = get('category') !== undefined ? 'category' : 'family';
  if (get('category') !== undefined && get('family') !== undefined) bad('family', 'give either "category" or "family", not both');
  const rawCat = get(categoryKey);
  if (typeof rawCat === 'string') category = csv ? rawCat.trim() : rawCat;
  else if (rawCat !== undefined && rawCat !== null) bad(categoryKey, `expected a string, got ${describe(rawCat)}`);

  // scorer (read before expected: json scorers accept a JSON value as the expected answer)
  let scorerName: string | undefined;
  let scorerObject: Record<string, unknown> | undefined;
  let rawScorer = get('scorer');
  if (csv && typeof rawScorer === 'string' && rawScorer.trim().startsWith('{')) rawScorer = jsonText('scorer', rawScorer);
  if (typeof rawScorer === 'string') {
    const n = rawScorer.trim().toLowerCase();
    if ((SCORER_TYPES as readonly string[]).includes(n)) scorerName = n;
    else bad('scorer', `unknown scorer ${describe(rawScorer)} (known: ${SCORER_TYPES.join(', ')})`);
  } else if (typeof rawScorer === 'object' && rawScorer !== null && !Array.isArray(rawScorer)) {
    scorerObject = rawScorer as Record<string, unknown>;
  } else if (rawScorer !== undefined && rawScorer !== null) {
    bad('scorer', `expected a scorer name or object, got ${describe(rawScorer)}`);
  }
  const jsonScorer = scorerName === 'json' || scorerName === 'json-schema' || scorerObject?.['type'] === 'json' || scorerObject?.['type'] === 'json-schema';

  // expected / answer
  let expected: string | undefined;
  const expectedKey = get('expected') !== undefined ? 'expected' : 'answer';
  if (get('expected') !== undefined && get('answer') !== undefined) bad('answer', 'give either "expected" or "answer", not both');
  const rawExp = get(expectedKey);
  if (typeof rawExp === 'string') expected = rawExp;
  else if (typeof rawExp === 'number' && Number.isFinite(rawExp)) expected = String(rawExp);
  else if (rawExp !== undefined && jsonScorer) expected = JSON.stringify(rawExp);
  else if (rawExp !== undefined && rawExp !== null) bad(expectedKey, `expected a string or number, got ${describe(rawExp)}`);

  // prompt + system, or messages
  const prompt = get('prompt');
  const system = get('system');
  let rawMessages = get('messages');
  let messages: unknown;
  const fromPrompt = rawMessages === undefined;
  if (prompt === undefined && rawMessages === undefined) bad('prompt', 'each case needs a "prompt" (or "messages")');
  else if (prompt !== undefined && rawMessages !== undefined) bad('messages', 'give either "prompt" or "messages", not both');
  else if (prompt !== undefined) {
    if (typeof prompt !== 'string') bad('prompt', `expected a string, got ${describe(prompt)}`);
    else if (prompt.trim() === '') bad('prompt', 'must not be empty');
    if (system !== undefined && typeof system !== 'string') bad('system', `expected a string, got ${describe(system)}`);
    const m: ChatMessage[] = [];
    if (typeof system === 'string' && system.trim() !== '') m.push({ role: 'system', content: system });
    m.push({ role: 'user', content: typeof prompt === 'string' ? prompt : '' });
    messages = m;
  } else {
    if (system !== undefined) bad('system', '"system" goes with "prompt"; with "messages", put a system message first in "messages"');
    if (csv) rawMessages = jsonText('messages', rawMessages);
    if (!Array.isArray(rawMessages)) bad('messages', `expected an array of {"role", "content"} messages, got ${describe(rawMessages)}`);
    messages = rawMessages;
  }
  const hasSystem = fromPrompt && typeof system === 'string' && system.trim() !== '';

  // scorer parameters
  const params: Partial<Record<ScorerParam, unknown>> = {};
  for (const p of SCORER_PARAMS) {
    const v = get(p);
    if (v === undefined) continue;
    if (scorerObject) bad(p, `put "${p}" inside the scorer object`);
    else if (scorerName !== undefined && PARAM_OWNER[p] !== scorerName) bad(p, `"${p}" is only used by the ${PARAM_OWNER[p]} scorer (this case uses ${scorerName})`);
    else if (scorerName === undefined && rawScorer === undefined) bad(p, `"${p}" is only used by the ${PARAM_OWNER[p]} scorer: set "scorer" to "${PARAM_OWNER[p]}"`);
    params[p] = v;
  }
  let scorer: unknown = scorerObject;
  if (scorerName === undefined && rawScorer === undefined) {
    // A prompt alone: scored by agreement with the hosted answer when the suite runs on both.
    scorer = expected === undefined ? { type: 'agreement' } : { type: 'exact' };
  } else if (scorerName !== undefined) {
    const s: Record<string, unknown> = { type: scorerName };
    if (scorerName === 'regex') {
      if (params.pattern === undefined) bad('pattern', 'the regex scorer needs a "pattern"');
      else if (typeof params.pattern !== 'string') bad('pattern', `expected a string, got ${describe(params.pattern)}`);
      s['pattern'] = params.pattern;
      if (params.flags !== undefined) {
        if (typeof params.flags !== 'string') bad('flags', `expected a string, got ${describe(params.flags)}`);
        s['flags'] = typeof params.flags === 'string' ? params.flags.trim() : params.flags;
      }
    } else if (scorerName === 'numeric') {
      const t = params.tolerance;
      let tol: number | undefined = 0;
      if (typeof t === 'number') tol = t;
      else if (typeof t === 'string' && /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(t)) tol = Number(t);
      else if (t !== undefined) {
        bad('tolerance', `expected a number, got ${describe(t)}`);
        tol = undefined;
      }
      if (tol !== undefined && (!Number.isFinite(tol) || tol < 0)) bad('tolerance', `must be a number ≥ 0, got ${tol}`);
      s['tolerance'] = tol;
    } else if (scorerName === 'json-schema') {
      if (params.schema === undefined) bad('schema', 'the json-schema scorer needs a "schema"');
      else {
        const v = jsonText('schema', params.schema);
        if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) bad('schema', `expected a JSON Schema object, got ${describe(v)}`);
        s['schema'] = v;
      }
    } else if (scorerName === 'judge') {
      if (params.rubric === undefined) bad('rubric', 'the judge scorer needs a "rubric"');
      s['rubric'] = params.rubric;
    }
    scorer = s;
  }
  if (issues.count > before) return null;
  const caseDraft: Record<string, unknown> = { id, category, messages, scorer };
  if (expected !== undefined) caseDraft['expected'] = expected;
  return { caseDraft, names: { expected: expectedKey, category: categoryKey, scorerIsName: scorerName !== undefined, fromPrompt, hasSystem } };
}

/** A zod path on the draft case → the field as the file names it. */
function fieldName(path: PropertyKey[], names: Built['names']): string {
  const [head, ...rest] = path;
  if (head === 'expected') return names.expected;
  if (head === 'category') return names.category;
  if (head === 'scorer') return names.scorerIsName && rest.length > 0 ? formatPath(rest) : formatPath(path);
  if (head === 'messages' && names.fromPrompt) {
    const i = rest[0];
    return names.hasSystem && i === 0 ? 'system' : 'prompt';
  }
  return formatPath(path) || '(record)';
}

function finishCase(built: Built, line: number, issues: Issues): SuiteCase | null {
  const r = suiteCaseSchema.safeParse(built.caseDraft);
  if (r.success) return r.data;
  for (const i of r.error.issues) {
    const p = zodIssueParts(i);
    issues.add(line, fieldName(p.path, built.names), p.message);
  }
  return null;
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
        issues.add(line, null, `expected a JSON object, got ${describe(rec)}`);
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
 * schema (JSON text), rubric. Quoted fields may hold commas, quotes ("") and newlines; empty cells
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
