/**
 * Deterministic scorers: one model output + one suite case → pass/fail, a score in 0..1 and a
 * short explanation a person can check at a glance ('expected "77", got "76"').
 *
 * Outputs are data from a model or a remote server, so `scoreOutput` never throws: anything
 * unexpected (a stack overflow on absurdly nested JSON…) becomes a failed score whose detail says
 * why. Regex and JSON Schema cases run the suite's pattern or schema (a stranger's) in the scoring
 * sandbox passed in, with a time limit: a catastrophic pattern fails that case with "pattern took
 * too long" and the run goes on. Outputs are trimmed of leading/trailing whitespace before scoring.
 * Judge cases return null here: the runner scores them with a hosted engine (judge.ts); so do
 * agreement cases: the results table scores them against the hosted answer (agreement.ts).
 */
import { parseExpectedNumber, readPointer, type FieldSpec, type ScorerSpec, type SuiteCase } from './suite';
import { compileScorerRegex } from './scorer-regex';
import type { SandboxOutcome, ScoringSandbox } from './sandbox/protocol';
import { errorText } from '../lib/errors';
import { jsonInAnswer, type JsonValue } from '../lib/json-answer';

export interface ScoreResult {
  pass: boolean;
  /** 0..1; deterministic scorers give 0 or 1, a judge may give a fraction. */
  score: number;
  /** Short human explanation, e.g. 'expected "77", got "76"'. */
  detail: string;
}

/** Outputs longer than this are failed without scoring (no real answer to a suite case is this long). */
export const MAX_SCORED_CHARS = 1_000_000;

const pass = (detail: string): ScoreResult => ({ pass: true, score: 1, detail });
const fail = (detail: string): ScoreResult => ({ pass: false, score: 0, detail });

/** A string for a detail line: JSON-quoted, cut to `max` characters. */
export function quote(s: string, max = 60): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

/**
 * The `normalized` scorer's rule, applied to both sides before comparing:
 * 1. Unicode NFKC (full-width letters and digits, ligatures, non-breaking spaces → plain forms);
 * 2. lowercase;
 * 3. every run of whitespace → one space, then trim;
 * 4. strip punctuation (Unicode category P: . , ! ? : ; " ' ` * ( ) [ ] « » - _ …) and spaces from
 *    both ends — so a trailing period, quotes, brackets and markdown bold all go — except a `-`
 *    right before a digit at the start, so "-5" keeps its sign.
 * Punctuation inside the text is kept: "new-york" ≠ "new york".
 */
const STRIPPABLE = /^[\p{P} ]$/u;

export function normalizeText(s: string): string {
  const t = s.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
  // Loops rather than an anchored `[\p{P} ]+$` regex, which is quadratic on hostile outputs.
  const chars = Array.from(t);
  let start = 0;
  let end = chars.length;
  while (start < end && STRIPPABLE.test(chars[start] ?? '') && !(chars[start] === '-' && /\d/.test(chars[start + 1] ?? ''))) start++;
  while (end > start && STRIPPABLE.test(chars[end - 1] ?? '')) end--;
  return chars.slice(start, end).join('');
}

/**
 * The first number in a text: optional sign (also U+2212 minus), digits with optional thousands
 * commas ("1,234,567"), optional decimals and exponent. "The answer is -1,234.5." → -1234.5.
 */
const NUMBER_IN_TEXT = /[-+\u2212]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+\u2212]?\.\d+/u;

export function firstNumber(text: string): number | null {
  const m = NUMBER_IN_TEXT.exec(text.normalize('NFKC'));
  if (!m) return null;
  const n = Number(m[0].replace(/\u2212/g, '-').replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
}

function jsonPreview(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function jsonPathPart(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * First difference between two JSON values, or null when they are deep-equal. Object key order is
 * irrelevant; array order matters. The answer names the path: 'at .age: expected 63, got "63"'.
 */
export function jsonDiff(expected: JsonValue, actual: JsonValue, path = ''): string | null {
  const here = path || '(root)';
  if (expected === null || actual === null || typeof expected !== 'object' || typeof actual !== 'object') {
    return Object.is(expected, actual) || expected === actual ? null : `at ${here}: expected ${jsonPreview(expected)}, got ${jsonPreview(actual)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return `at ${here}: expected ${jsonPreview(expected)}, got ${jsonPreview(actual)}`;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `at ${here}: expected ${expected.length} items, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = jsonDiff(expected[i] as JsonValue, actual[i] as JsonValue, jsonPathPart(path, i));
      if (d) return d;
    }
    return null;
  }
  const e = expected as Record<string, JsonValue>;
  const a = actual as Record<string, JsonValue>;
  for (const k of Object.keys(e)) {
    if (!Object.hasOwn(a, k)) return `at ${jsonPathPart(path, k)}: missing`;
    const d = jsonDiff(e[k] as JsonValue, a[k] as JsonValue, jsonPathPart(path, k));
    if (d) return d;
  }
  for (const k of Object.keys(a)) if (!Object.hasOwn(e, k)) return `at ${jsonPathPart(path, k)}: unexpected key`;
  return null;
}

/** Whether one answered field equals the expected one under `f.match`; null when right, else why not. */
export function fieldProblem(f: FieldSpec, expected: unknown, actual: { found: boolean; value: unknown }): string | null {
  if (!actual.found) return `${f.path}: missing`;
  const got = actual.value;
  switch (f.match) {
    case 'exact':
      return jsonDiff(expected as JsonValue, got as JsonValue) === null ? null : `${f.path}: expected ${jsonPreview(expected as JsonValue)}, got ${jsonPreview(got as JsonValue)}`;
    case 'normalized': {
      const e = normalizeText(typeof expected === 'string' ? expected : JSON.stringify(expected));
      const o = normalizeText(typeof got === 'string' ? got : JSON.stringify(got));
      return e === o ? null : `${f.path}: expected ${quote(e)}, got ${quote(o)} (normalized)`;
    }
    case 'numeric': {
      const e = typeof expected === 'number' ? expected : parseExpectedNumber(String(expected));
      const o = typeof got === 'number' ? got : typeof got === 'string' ? parseExpectedNumber(got) : null;
      if (e === null) return `${f.path}: the expected value is not a number`;
      if (o === null) return `${f.path}: expected ${e}, got ${jsonPreview(got as JsonValue)}`;
      const tol = f.tolerance ?? 0;
      return Math.abs(o - e) <= tol + 1e-9 * Math.max(1, Math.abs(e)) ? null : `${f.path}: expected ${tol > 0 ? `${e} ± ${tol}` : e}, got ${o}`;
    }
  }
}

/** Field-level accuracy: the share of expected fields the answer's JSON gets right; passes when all are. */
export function scoreJsonFields(fields: readonly FieldSpec[], expectedText: string, out: string): ScoreResult {
  const got = jsonInAnswer(out);
  if (!got) return fail(`0/${fields.length} fields: not valid JSON: ${quote(out)}`);
  const expected = JSON.parse(expectedText) as unknown;
  const problems = fields.map((f) => fieldProblem(f, readPointer(expected, f.path).value, readPointer(got.value, f.path))).filter((p): p is string => p !== null);
  const right = fields.length - problems.length;
  const score = fields.length ? right / fields.length : 0;
  const head = `${right}/${fields.length} fields right`;
  return { pass: problems.length === 0, score, detail: problems.length ? `${head}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}` : head };
}

/** Scorers that run in this thread: everything but regex, json-schema (sandbox) and judge (runner). */
function scoreDeterministic(c: SuiteCase, out: string): ScoreResult | null {
  const expected = c.expected ?? '';
  const s = c.scorer;
  switch (s.type) {
    case 'exact': {
      const e = expected.trim();
      return out === e ? pass(`matches ${quote(e)}`) : fail(`expected ${quote(e)}, got ${quote(out)}`);
    }
    case 'normalized': {
      const e = normalizeText(expected);
      const o = normalizeText(out);
      return o === e ? pass(`matches ${quote(e)} after normalizing`) : fail(`expected ${quote(e)}, got ${quote(o)} (normalized)`);
    }
    case 'contains': {
      const e = expected.trim();
      return out.toLowerCase().includes(e.toLowerCase()) ? pass(`contains ${quote(e)}`) : fail(`does not contain ${quote(e)}`);
    }
    case 'numeric': {
      const e = parseExpectedNumber(expected);
      if (e === null) return fail(`expected ${quote(expected)} is not a number`);
      const got = firstNumber(out);
      const want = s.tolerance > 0 ? `${e} ± ${s.tolerance}` : String(e);
      if (got === null) return fail(`expected ${want}, found no number in ${quote(out)}`);
      // A relative epsilon so 0.1 + 0.2 counts as 0.3 at tolerance 0.
      const ok = Math.abs(got - e) <= s.tolerance + 1e-9 * Math.max(1, Math.abs(e));
      return ok ? pass(`${got} is within ${s.tolerance} of ${e}`) : fail(`expected ${want}, got ${got}`);
    }
    case 'json': {
      const got = jsonInAnswer(out);
      if (!got) return fail(`not valid JSON: ${quote(out)}`);
      if (c.expected === undefined) return pass('valid JSON');
      const d = jsonDiff(JSON.parse(c.expected) as JsonValue, got.value);
      return d === null ? pass('JSON equals the expected value') : fail(`JSON differs ${d}`);
    }
    case 'json-fields':
      return scoreJsonFields(s.fields, expected, out);
    case 'regex':
    case 'json-schema':
    case 'judge':
    case 'agreement':
      return null;
  }
}

/** A sandbox answer that did not come: the case fails with the reason, the run goes on. */
function notDone(o: Exclude<SandboxOutcome<unknown>, { status: 'done' }>, what: string): ScoreResult {
  return o.status === 'timeout' ? fail(`${what} took too long (over ${o.limitMs} ms)`) : fail(`could not be scored: ${o.message}`.slice(0, 200));
}

async function scoreRegex(s: Extract<ScorerSpec, { type: 'regex' }>, out: string, sandbox: ScoringSandbox): Promise<ScoreResult> {
  // Compiling is cheap and cannot hang (it also names the flags as the engine normalizes them);
  // matching can, so it runs in the sandbox.
  const flags = compileScorerRegex(s.pattern, s.flags).flags;
  const shown = `/${s.pattern.length > 60 ? `${s.pattern.slice(0, 60)}…` : s.pattern}/${flags}`;
  const r = await sandbox.matchRegex(s.pattern, s.flags ?? '', out);
  if (r.status !== 'done') return notDone(r, 'pattern');
  return r.value ? pass(`matches ${shown}`) : fail(`no match for ${shown} in ${quote(out)}`);
}

async function scoreJsonSchema(s: Extract<ScorerSpec, { type: 'json-schema' }>, out: string, sandbox: ScoringSandbox): Promise<ScoreResult> {
  const got = jsonInAnswer(out);
  if (!got) return fail(`not valid JSON: ${quote(out)}`);
  const r = await sandbox.validateJsonSchema(s.schema, got.value);
  if (r.status !== 'done') return notDone(r, 'schema check');
  return r.value === null ? pass('JSON matches the schema') : fail(`JSON does not match the schema: ${r.value}`);
}

/**
 * Scores one output against one case. Null for judge cases (scored by the runner, see judge.ts).
 * Never throws (rejects).
 */
export async function scoreOutput(c: SuiteCase, output: string, sandbox: ScoringSandbox): Promise<ScoreResult | null> {
  if (c.scorer.type === 'judge' || c.scorer.type === 'agreement') return null;
  const raw = typeof output === 'string' ? output : String(output);
  if (raw.length > MAX_SCORED_CHARS) return fail(`output too long to score (${raw.length} characters; the limit is ${MAX_SCORED_CHARS})`);
  const out = raw.trim();
  try {
    if (c.scorer.type === 'regex') return await scoreRegex(c.scorer, out, sandbox);
    if (c.scorer.type === 'json-schema') return await scoreJsonSchema(c.scorer, out, sandbox);
    return scoreDeterministic(c, out);
  } catch (e) {
    return fail(`could not be scored: ${errorText(e)}`.slice(0, 200));
  }
}
