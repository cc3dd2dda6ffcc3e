/**
 * How far the local answer agrees with the hosted one, the hosted answer taken as the reference.
 * Pure and total: no I/O, no clocks; any text in, never throws.
 *
 * Measures, in the order that decides the verdict (the first decisive one wins):
 * 1. exact — identical after trimming the ends;
 * 2. normalized — identical after Unicode NFKC, lowercasing and collapsing whitespace;
 * 3. json — the reference is JSON (whole, or a ``` fence): the candidate must hold the same
 *    keys and values, in any key order (array order counts);
 * 4. numbers — the same values however written ("1,000", "1000", "1 000"): agree when the texts
 *    match once every number is written one way, or when one side is a bare number and the
 *    other's numbers are that number; disagree when both hold numbers and they differ;
 * 5. judge — when the user turned it on and it answered (agreement-judge.ts);
 * 6. similarity — ROUGE-L F1 over words ≥ SIMILARITY_THRESHOLD (token F1 is shown beside it).
 * A hosted error gives no verdict (there is no reference); so does a local error.
 */

import { lcsLength, wordDiff, type DiffPart } from './lcs';

export { lcsLength, MAX_LCS_CELLS, wordDiff, type DiffPart } from './lcs';

import type { MeasureId } from './measure-ids';
import { jsonInAnswer, type JsonValue } from '../lib/json-answer';

export { MEASURE_IDS, type MeasureId } from './measure-ids';

/**
 * ROUGE-L F1 at or above this counts as agreement when nothing stricter decided. 0.6 is a
 * judgement call: one changed word in a six-word sentence scores 0.83, unrelated sentences near 0,
 * but a paraphrase in other words also falls below it — the judge is there for paraphrases.
 */
export const SIMILARITY_THRESHOLD = 0.6;

/** Longest pair ROUGE-L is computed for (words × words; bit-parallel, so 32 cells per operation). */
export const MAX_ROUGE_CELLS = 400_000_000;


/** A decisive-or-not outcome of one measure; null fields in Measures mean "does not apply". */
export interface MeasureOutcome {
  agree: boolean;
  /** False when the measure only informs (e.g. the same numbers inside different sentences). */
  decisive: boolean;
  detail: string;
}


export interface Measures {
  exact: boolean;
  normalized: boolean;
  json: MeasureOutcome | null;
  numbers: MeasureOutcome | null;
  /** Token F1 (bag of words), 0..1; null when both answers are empty. */
  tokenF1: number | null;
  /** ROUGE-L F1 (longest common word subsequence), 0..1; null when too long to compute or both empty. */
  rougeL: number | null;
}

export type JudgeOutcome = { status: 'done'; same: boolean; reason: string } | { status: 'failed'; error: string };

export interface Agreement {
  /** null: no verdict (an engine failed); the reason says which. */
  verdict: 'agree' | 'disagree' | null;
  decidedBy: MeasureId | null;
  /** One line a person reads: "agree (numbers): the same value, 1000". */
  reason: string;
  measures: Measures | null;
  judge: JudgeOutcome | null;
}

// ——— text ———

/** NFKC, lowercase, whitespace runs → one space, trimmed: differences of form, not of content. */
export function normalizeForm(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

const EDGE = /[\p{P}\p{S}]/u;

/** A word's comparison key: NFKC, lowercase, punctuation and symbols cut from both ends (loops, not a regex: linear on hostile input). */
export function wordKey(word: string): string {
  const w = (/^[\x20-\x7e]*$/u.test(word) ? word : word.normalize('NFKC')).toLowerCase();
  // Most words have no punctuation at either end: one linear test instead of splitting into code points.
  if (!EDGE_ENDS.test(w)) return w;
  const chars = Array.from(w);
  let a = 0;
  let b = chars.length;
  while (a < b && EDGE.test(chars[a] ?? '')) a++;
  while (b > a && EDGE.test(chars[b - 1] ?? '')) b--;
  return a === b ? word : chars.slice(a, b).join('');
}
const EDGE_ENDS = /^[\p{P}\p{S}]|[\p{P}\p{S}]$/u;

export function words(s: string): string[] {
  return s.split(/\s+/u).filter((w) => w.length > 0);
}

// ——— numbers ———

// Thousands groups with one separator used throughout the number (comma, space, no-break or thin
// space), or plain digits; decimals; exponent. The backreference keeps "1, 234" from joining.
// Not inside a word ("w123", "gpt-4o") or after a decimal point.
const NUMBER = /(?<![\p{L}\p{N}_.])[-+\u2212]?(?:\d{1,3}(?:([,\u0020\u00a0\u202f\u2009])\d{3})(?:\1\d{3})*(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?/gu;

/** Every number in a text, as values: "1,000 and 1 000.5" → [1000, 1000.5]. */
export function numbersIn(s: string): number[] {
  const out: number[] = [];
  for (const m of s.normalize('NFKC').matchAll(NUMBER)) {
    const n = Number(m[0].replace(/\u2212/gu, '-').replace(/[,\u0020\u00a0\u202f\u2009]/gu, ''));
    if (Number.isFinite(n)) out.push(n);
  }
  return out;
}

/** The text with every number written one way (its shortest decimal form). */
function canonicalNumbers(s: string): string {
  return normalizeForm(s.normalize('NFKC').replace(NUMBER, (m) => {
    const n = Number(m.replace(/\u2212/gu, '-').replace(/[,\u0020\u00a0\u202f\u2009]/gu, ''));
    return Number.isFinite(n) ? ` ${n} ` : m;
  }));
}

const sameSet = (a: number[], b: number[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};
const isBare = (s: string) => /^[^\p{L}]*$/u.test(s) && numbersIn(s).length === 1;
const listed = (ns: number[]) => (ns.length ? [...new Set(ns)].slice(0, 4).join(', ') + (new Set(ns).size > 4 ? '…' : '') : 'none');

export function numbersMeasure(ref: string, cand: string): MeasureOutcome | null {
  const rn = numbersIn(ref);
  const cn = numbersIn(cand);
  if (rn.length === 0 && cn.length === 0) return null;
  if (canonicalNumbers(ref) === canonicalNumbers(cand)) return { agree: true, decisive: true, detail: `the same text once numbers are written one way (${listed(rn)})` };
  const bare = isBare(ref) || isBare(cand);
  if (sameSet(rn, cn)) return bare ? { agree: true, decisive: true, detail: `the same value, ${listed(rn)}` } : { agree: true, decisive: false, detail: `the same numbers (${listed(rn)}) in different words` };
  if (rn.length === 0 || cn.length === 0) return bare ? { agree: false, decisive: true, detail: `hosted ${listed(rn)}, local ${listed(cn)}` } : null;
  return { agree: false, decisive: true, detail: `different numbers: hosted ${listed(rn)}, local ${listed(cn)}` };
}

// ——— JSON ———

/** The first path where two JSON values differ ("$.a[2]"), or null when deep-equal (key order ignored). */
export function jsonDifference(a: JsonValue, b: JsonValue, path = '$'): string | null {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b ? null : path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path} (${a.length} vs ${b.length} items)`;
    for (let i = 0; i < a.length; i++) {
      const d = jsonDifference(a[i] as JsonValue, b[i] as JsonValue, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const x = a as Record<string, JsonValue>;
  const y = b as Record<string, JsonValue>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (!Object.hasOwn(x, k) || !Object.hasOwn(y, k)) return `${path}.${k} (in one answer only)`;
    const d = jsonDifference(x[k] as JsonValue, y[k] as JsonValue, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

export function jsonMeasure(ref: string, cand: string): MeasureOutcome | null {
  const r = jsonInAnswer(ref);
  if (!r || r.value === null || typeof r.value !== 'object') return null;
  const c = jsonInAnswer(cand);
  if (!c) return { agree: false, decisive: true, detail: 'the hosted answer is JSON, the local one is not' };
  let d: string | null;
  try {
    d = jsonDifference(r.value, c.value);
  } catch {
    d = '$ (nested too deeply to compare)';
  }
  return d === null ? { agree: true, decisive: true, detail: 'the same JSON keys and values' } : { agree: false, decisive: true, detail: `JSON differs at ${d}` };
}

// ——— similarity and diff ———

/** SQuAD-style token F1 over word keys (bag of words with counts). */
export function tokenF1(refKeys: readonly string[], candKeys: readonly string[]): number | null {
  if (refKeys.length === 0 && candKeys.length === 0) return null;
  if (refKeys.length === 0 || candKeys.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const k of refKeys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let common = 0;
  for (const k of candKeys) {
    const c = counts.get(k) ?? 0;
    if (c > 0) {
      common++;
      counts.set(k, c - 1);
    }
  }
  if (common === 0) return 0;
  const p = common / candKeys.length;
  const r = common / refKeys.length;
  return (2 * p * r) / (p + r);
}

/** Every non-judge measure for one pair (no diff: see diffAnswers). */
export function measureAgreement(reference: string, candidate: string): Measures {
  const ref = typeof reference === 'string' ? reference : '';
  const cand = typeof candidate === 'string' ? candidate : '';
  const rk = words(ref).map(wordKey);
  const ck = words(cand).map(wordKey);
  const lcs = rk.length * ck.length > MAX_ROUGE_CELLS ? null : lcsLength(rk, ck);
  const rougeL = rk.length === 0 && ck.length === 0 ? null : lcs === null ? null : lcs === 0 ? 0 : (2 * lcs) / (rk.length + ck.length);
  return {
    exact: ref.trim() === cand.trim(),
    normalized: normalizeForm(ref) === normalizeForm(cand),
    json: jsonMeasure(ref, cand),
    numbers: numbersMeasure(ref, cand),
    tokenF1: tokenF1(rk, ck),
    rougeL,
  };
}

/** The word-level diff of the two answers for display; null when too long for the LCS table. */
export function diffAnswers(reference: string, candidate: string): DiffPart[] | null {
  const rw = words(typeof reference === 'string' ? reference : '');
  const cw = words(typeof candidate === 'string' ? candidate : '');
  return wordDiff(rw, cw, rw.map(wordKey), cw.map(wordKey))?.diff ?? null;
}

const pct = (x: number) => x.toFixed(2);

/** The verdict from the measures (and the judge, when it answered). */
export function decide(m: Measures, judge: JudgeOutcome | null = null): Agreement {
  const out = (verdict: 'agree' | 'disagree', decidedBy: MeasureId, why: string): Agreement => ({ verdict, decidedBy, reason: `${verdict} (${decidedBy}): ${why}`, measures: m, judge });
  if (m.exact) return out('agree', 'exact', 'identical answers');
  if (m.normalized) return out('agree', 'normalized', 'the same once case, whitespace and Unicode form are ignored');
  if (m.json?.decisive) return out(m.json.agree ? 'agree' : 'disagree', 'json', m.json.detail);
  if (m.numbers?.decisive) return out(m.numbers.agree ? 'agree' : 'disagree', 'numbers', m.numbers.detail);
  const judgeNote = judge?.status === 'failed' ? ` (judge failed: ${judge.error})` : '';
  if (judge?.status === 'done') return out(judge.same ? 'agree' : 'disagree', 'judge', judge.reason || 'no reason given');
  // Both null only for two empty answers, which the exact match decided above.
  const sim = m.rougeL ?? m.tokenF1 ?? 0;
  const simName = m.rougeL !== null ? 'ROUGE-L' : 'token F1';
  const agree = sim >= SIMILARITY_THRESHOLD;
  return out(agree ? 'agree' : 'disagree', 'similarity', `${simName} ${pct(sim)} ${agree ? '≥' : '<'} ${SIMILARITY_THRESHOLD}${judgeNote}`);
}

export interface PairInput {
  reference: string;
  candidate: string;
  referenceError?: string | null;
  candidateError?: string | null;
}

/** The whole verdict for one exchange; an engine error gives no verdict and says so. */
export function agreementOf(p: PairInput, judge: JudgeOutcome | null = null, measures?: Measures): Agreement {
  if (p.referenceError) return { verdict: null, decidedBy: null, reason: `no verdict: the hosted answer failed (${p.referenceError})`, measures: null, judge: null };
  if (p.candidateError) return { verdict: null, decidedBy: null, reason: `no verdict: the local answer failed (${p.candidateError})`, measures: null, judge: null };
  return decide(measures ?? measureAgreement(p.reference, p.candidate), judge);
}

/** Cells of the LCS table a pair needs at most: the hosted code measures off the main thread above a frame's worth. */
export function lcsCells(reference: string, candidate: string): number {
  return words(reference).length * words(candidate).length;
}
