/**
 * One record of an imported file (a JSONL object or a CSV row) → a suite case, with every problem
 * reported as the file names its fields (import.ts reads the files and assembles the suite).
 */
import { SCORER_TYPES, suiteCaseSchema, zodIssueParts, formatPath, type ScorerType, type SuiteCase } from './suite';
import type { ChatMessage } from '../engines/types';
import type { Issues } from './import-issues';


export const RECORD_FIELDS = ['id', 'category', 'family', 'prompt', 'system', 'messages', 'expected', 'answer', 'scorer', 'pattern', 'flags', 'tolerance', 'schema', 'rubric', 'response_schema'] as const;
type RecordField = (typeof RECORD_FIELDS)[number];
const SCORER_PARAMS = ['pattern', 'flags', 'tolerance', 'schema', 'rubric'] as const;
type ScorerParam = (typeof SCORER_PARAMS)[number];
const PARAM_OWNER: Record<ScorerParam, ScorerType> = { pattern: 'regex', flags: 'regex', tolerance: 'numeric', schema: 'json-schema', rubric: 'judge' };

const hint = (p: ScorerParam) => (p === 'schema' ? '; the answer\'s own JSON Schema (the output constraint) goes in "response_schema"' : '');

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export interface Built {
  caseDraft: Record<string, unknown>;
  /** How the file names each part, to report zod's paths as the user's fields. */
  names: { expected: string; category: string; scorerIsName: boolean; fromPrompt: boolean; hasSystem: boolean };
}

/**
 * Builds a case from one record, reporting problems as the file names its fields. `csv` means
 * every value is text (empty cells were dropped): numbers and JSON (messages, schema, scorer
 * objects) are read from the text.
 */
export function buildCase(rec: Record<string, unknown>, line: number, csv: boolean, issues: Issues): Built | null {
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
  else if (rawId !== undefined && rawId !== null) bad('id', `expected a string, got ${describeValue(rawId)}`);

  // category / family
  let category = 'general';
  const categoryKey = get('category') !== undefined ? 'category' : 'family';
  if (get('category') !== undefined && get('family') !== undefined) bad('family', 'give either "category" or "family", not both');
  const rawCat = get(categoryKey);
  if (typeof rawCat === 'string') category = csv ? rawCat.trim() : rawCat;
  else if (rawCat !== undefined && rawCat !== null) bad(categoryKey, `expected a string, got ${describeValue(rawCat)}`);

  // scorer (read before expected: json scorers accept a JSON value as the expected answer)
  let scorerName: string | undefined;
  let scorerObject: Record<string, unknown> | undefined;
  let rawScorer = get('scorer');
  if (csv && typeof rawScorer === 'string' && rawScorer.trim().startsWith('{')) rawScorer = jsonText('scorer', rawScorer);
  if (typeof rawScorer === 'string') {
    const n = rawScorer.trim().toLowerCase();
    if ((SCORER_TYPES as readonly string[]).includes(n)) scorerName = n;
    else bad('scorer', `unknown scorer ${describeValue(rawScorer)} (known: ${SCORER_TYPES.join(', ')})`);
  } else if (typeof rawScorer === 'object' && rawScorer !== null && !Array.isArray(rawScorer)) {
    scorerObject = rawScorer as Record<string, unknown>;
  } else if (rawScorer !== undefined && rawScorer !== null) {
    bad('scorer', `expected a scorer name or object, got ${describeValue(rawScorer)}`);
  }
  const jsonScorer = scorerName === 'json' || scorerName === 'json-schema' || scorerObject?.['type'] === 'json' || scorerObject?.['type'] === 'json-schema' || scorerObject?.['type'] === 'json-fields';

  // expected / answer
  let expected: string | undefined;
  const expectedKey = get('expected') !== undefined ? 'expected' : 'answer';
  if (get('expected') !== undefined && get('answer') !== undefined) bad('answer', 'give either "expected" or "answer", not both');
  const rawExp = get(expectedKey);
  if (typeof rawExp === 'string') expected = rawExp;
  else if (typeof rawExp === 'number' && Number.isFinite(rawExp)) expected = String(rawExp);
  else if (rawExp !== undefined && jsonScorer) expected = JSON.stringify(rawExp);
  else if (rawExp !== undefined && rawExp !== null) bad(expectedKey, `expected a string or number, got ${describeValue(rawExp)}`);

  // prompt + system, or messages
  const prompt = get('prompt');
  const system = get('system');
  let rawMessages = get('messages');
  let messages: unknown;
  const fromPrompt = rawMessages === undefined;
  if (prompt === undefined && rawMessages === undefined) bad('prompt', 'each case needs a "prompt" (or "messages")');
  else if (prompt !== undefined && rawMessages !== undefined) bad('messages', 'give either "prompt" or "messages", not both');
  else if (prompt !== undefined) {
    if (typeof prompt !== 'string') bad('prompt', `expected a string, got ${describeValue(prompt)}`);
    else if (prompt.trim() === '') bad('prompt', 'must not be empty');
    if (system !== undefined && typeof system !== 'string') bad('system', `expected a string, got ${describeValue(system)}`);
    const m: ChatMessage[] = [];
    if (typeof system === 'string' && system.trim() !== '') m.push({ role: 'system', content: system });
    m.push({ role: 'user', content: typeof prompt === 'string' ? prompt : '' });
    messages = m;
  } else {
    if (system !== undefined) bad('system', '"system" goes with "prompt"; with "messages", put a system message first in "messages"');
    if (csv) rawMessages = jsonText('messages', rawMessages);
    if (!Array.isArray(rawMessages)) bad('messages', `expected an array of {"role", "content"} messages, got ${describeValue(rawMessages)}`);
    messages = rawMessages;
  }
  const hasSystem = fromPrompt && typeof system === 'string' && system.trim() !== '';

  // The answer's JSON Schema (the suite format's case `schema`): the output constraint of constrained
  // runs and the structure check of every run. Its own field, because "schema" is the json-schema
  // scorer's parameter (that scorer accepts keywords the constraint refuses, such as "not").
  let responseSchema: unknown;
  const rawRs = get('response_schema');
  if (rawRs !== undefined && rawRs !== null) {
    const v = jsonText('response_schema', rawRs);
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) bad('response_schema', `expected a JSON Schema object, got ${describeValue(v)}`);
    else responseSchema = v;
  }

  // scorer parameters
  const params: Partial<Record<ScorerParam, unknown>> = {};
  for (const p of SCORER_PARAMS) {
    const v = get(p);
    if (v === undefined) continue;
    if (scorerObject) bad(p, `put "${p}" inside the scorer object`);
    else if (scorerName !== undefined && PARAM_OWNER[p] !== scorerName) bad(p, `"${p}" is only used by the ${PARAM_OWNER[p]} scorer (this case uses ${scorerName})${hint(p)}`);
    else if (scorerName === undefined && rawScorer === undefined) bad(p, `"${p}" is only used by the ${PARAM_OWNER[p]} scorer: set "scorer" to "${PARAM_OWNER[p]}"${hint(p)}`);
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
      else if (typeof params.pattern !== 'string') bad('pattern', `expected a string, got ${describeValue(params.pattern)}`);
      s['pattern'] = params.pattern;
      if (params.flags !== undefined) {
        if (typeof params.flags !== 'string') bad('flags', `expected a string, got ${describeValue(params.flags)}`);
        s['flags'] = typeof params.flags === 'string' ? params.flags.trim() : params.flags;
      }
    } else if (scorerName === 'numeric') {
      const t = params.tolerance;
      let tol: number | undefined = 0;
      if (typeof t === 'number') tol = t;
      else if (typeof t === 'string' && /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(t)) tol = Number(t);
      else if (t !== undefined) {
        bad('tolerance', `expected a number, got ${describeValue(t)}`);
        tol = undefined;
      }
      if (tol !== undefined && (!Number.isFinite(tol) || tol < 0)) bad('tolerance', `must be a number ≥ 0, got ${tol}`);
      s['tolerance'] = tol;
    } else if (scorerName === 'json-schema') {
      if (params.schema === undefined) bad('schema', 'the json-schema scorer needs a "schema"');
      else {
        const v = jsonText('schema', params.schema);
        if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) bad('schema', `expected a JSON Schema object, got ${describeValue(v)}`);
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
  if (responseSchema !== undefined) caseDraft['schema'] = responseSchema;
  return { caseDraft, names: { expected: expectedKey, category: categoryKey, scorerIsName: scorerName !== undefined, fromPrompt, hasSystem } };
}

/** A zod path on the draft case → the field as the file names it. */
function fieldName(path: PropertyKey[], names: Built['names']): string {
  const [head, ...rest] = path;
  if (head === 'expected') return names.expected;
  if (head === 'category') return names.category;
  if (head === 'schema') return 'response_schema';
  if (head === 'scorer') return names.scorerIsName && rest.length > 0 ? formatPath(rest) : formatPath(path);
  if (head === 'messages' && names.fromPrompt) {
    const i = rest[0];
    return names.hasSystem && i === 0 ? 'system' : 'prompt';
  }
  return formatPath(path) || '(record)';
}

export function finishCase(built: Built, line: number, issues: Issues): SuiteCase | null {
  const r = suiteCaseSchema.safeParse(built.caseDraft);
  if (r.success) return r.data;
  for (const i of r.error.issues) {
    const p = zodIssueParts(i);
    issues.add(line, fieldName(p.path, built.names), p.message);
  }
  return null;
}
