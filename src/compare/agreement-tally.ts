/**
 * Agreement across a session (or a suite): the tally per measure with its Wilson interval, the
 * disagreements to reopen, and the one decision sentence with its Markdown export. Pure.
 */
import { breakEven, median, wilsonInterval, type Interval } from '../metrics/stats';
import { SIMILARITY_THRESHOLD, type Agreement, type MeasureId } from './agreement';

/** One verdict, compact: what exports and share links carry (no diff; it is recomputed from the answers). */
export interface VerdictRecord {
  verdict: 'agree' | 'disagree' | null;
  decidedBy: MeasureId | null;
  reason: string;
  exact: boolean;
  normalized: boolean;
  json: boolean | null;
  numbers: boolean | null;
  tokenF1: number | null;
  rougeL: number | null;
  /** The judge's verdict (true: same); null when it was off or failed. */
  judge: boolean | null;
  judgeError: string | null;
}

export function verdictRecord(a: Agreement): VerdictRecord {
  const m = a.measures;
  return {
    verdict: a.verdict,
    decidedBy: a.decidedBy,
    reason: a.reason.slice(0, 1000),
    exact: m?.exact ?? false,
    normalized: m?.normalized ?? false,
    json: m?.json ? m.json.agree : null,
    numbers: m?.numbers?.decisive ? m.numbers.agree : null,
    tokenF1: m?.tokenF1 ?? null,
    rougeL: m?.rougeL ?? null,
    judge: a.judge?.status === 'done' ? a.judge.same : null,
    judgeError: a.judge?.status === 'failed' ? a.judge.error.slice(0, 500) : null,
  };
}

/** What one exchange of a session was: the two answers, their times and the hosted cost. */
export interface ExchangeFacts {
  prompt: string;
  local: string;
  hosted: string;
  localError: string | null;
  hostedError: string | null;
  localTtftMs: number | null;
  hostedTtftMs: number | null;
  localE2eMs: number | null;
  hostedE2eMs: number | null;
  /** null when the hosted model's price is unknown. */
  hostedCostUsd: number | null;
}

/** One exchange of a session as the tally needs it. */
export interface SessionEntry extends ExchangeFacts {
  verdict: VerdictRecord;
}

export interface MeasureTally {
  id: MeasureId;
  agreed: number;
  /** Pairs the measure applied to (with a verdict). */
  applicable: number;
}

export interface Tally {
  total: number;
  /** Pairs with a verdict (both engines answered). */
  judged: number;
  agreed: number;
  interval: Interval | null;
  noVerdict: number;
  localFirst: number;
  hostedCostUsd: number;
  /** Hosted answers whose price is unknown (not in hostedCostUsd). */
  costUnknown: number;
  perMeasure: MeasureTally[];
  judgeFailed: number;
  /** Indexes of the entries where local disagreed, to reopen. */
  disagreements: number[];
}

const similarityAgrees = (v: VerdictRecord) => {
  const s = v.rougeL ?? v.tokenF1;
  return s === null ? null : s >= SIMILARITY_THRESHOLD;
};

export function tallyVerdicts(verdicts: readonly VerdictRecord[]): Omit<Tally, 'localFirst' | 'hostedCostUsd' | 'costUnknown'> {
  const withVerdict = verdicts.filter((v) => v.verdict !== null);
  const agreed = withVerdict.filter((v) => v.verdict === 'agree').length;
  const count = (id: MeasureId, f: (v: VerdictRecord) => boolean | null): MeasureTally => {
    const vals = withVerdict.map(f).filter((x): x is boolean => x !== null);
    return { id, agreed: vals.filter(Boolean).length, applicable: vals.length };
  };
  return {
    total: verdicts.length,
    judged: withVerdict.length,
    agreed,
    interval: wilsonInterval(agreed, withVerdict.length),
    noVerdict: verdicts.length - withVerdict.length,
    perMeasure: [
      count('exact', (v) => v.exact),
      count('normalized', (v) => v.normalized),
      count('json', (v) => v.json),
      count('numbers', (v) => v.numbers),
      count('judge', (v) => v.judge),
      count('similarity', similarityAgrees),
    ],
    judgeFailed: withVerdict.filter((v) => v.judgeError !== null).length,
    disagreements: verdicts.flatMap((v, i) => (v.verdict === 'disagree' ? [i] : [])),
  };
}

export function tallySession(entries: readonly SessionEntry[]): Tally {
  const base = tallyVerdicts(entries.map((e) => e.verdict));
  return {
    ...base,
    localFirst: entries.filter((e) => e.localTtftMs !== null && e.hostedTtftMs !== null && e.localTtftMs < e.hostedTtftMs).length,
    hostedCostUsd: entries.reduce((s, e) => s + (e.hostedError === null && e.hostedCostUsd !== null ? e.hostedCostUsd : 0), 0),
    costUnknown: entries.filter((e) => e.hostedError === null && e.hostedCostUsd === null).length,
  };
}

/** "$0.03", "$0.0042", "$0": two significant figures below a cent. */
export function usd(x: number): string {
  if (x === 0) return '$0';
  if (x >= 0.01) return `$${x.toFixed(2)}`;
  return `$${Number(x.toPrecision(2))}`;
}

export const percent = (x: number) => `${Math.round(x * 100)}%`;
export const intervalText = (i: Interval | null) => (i ? `${Math.round(i.low * 100)}–${Math.round(i.high * 100)}%` : 'no interval');

/** "Local agreed with hosted on 14 of 20 prompts (70%, 95% interval 48–85%), answered first on 18, cost $0 against $0.03". */
export function tallySentence(t: Tally, noun = 'prompts'): string {
  if (t.judged === 0) return t.total === 0 ? `No ${noun} answered by both yet.` : `No verdict yet: ${t.noVerdict} of ${t.total} ${noun} had an engine error.`;
  const head = `Local agreed with hosted on ${t.agreed} of ${t.judged} ${noun} (${percent(t.agreed / t.judged)}, 95% interval ${intervalText(t.interval)})`;
  const cost = `cost $0 against ${usd(t.hostedCostUsd)}${t.costUnknown ? ` (+${t.costUnknown} at an unknown price)` : ''}`;
  const none = t.noVerdict ? `; ${t.noVerdict} without a verdict (an engine failed)` : '';
  return `${head}, answered first on ${t.localFirst}, ${cost}${none}.`;
}

export interface DecisionInput {
  agreed: number;
  judged: number;
  /** End-to-end times (ms) of the pairs both engines answered. */
  localE2eMs: readonly number[];
  hostedE2eMs: readonly number[];
  /** Mean hosted cost per request (USD), null when unknown. */
  hostedCostPerRequestUsd: number | null;
  /** The local model's one-time cost (download + session + warm-up, ms), null when unknown. */
  loadMs: number | null;
}

export interface Decision {
  sentence: string;
  rate: number | null;
  interval: Interval | null;
  speedup: number | null;
  perThousandUsd: number | null;
  paysBackAfter: number | null;
}

/** The sentence a user pastes into a design review, and the numbers behind it. */
export function decision(d: DecisionInput): Decision {
  const interval = wilsonInterval(d.agreed, d.judged);
  const rate = d.judged > 0 ? d.agreed / d.judged : null;
  const lm = median(d.localE2eMs);
  const hm = median(d.hostedE2eMs);
  const speedup = lm !== null && hm !== null && lm > 0 ? hm / lm : null;
  const perThousandUsd = d.hostedCostPerRequestUsd === null ? null : d.hostedCostPerRequestUsd * 1000;
  const paysBackAfter = d.loadMs !== null && lm !== null && hm !== null ? breakEven({ oneTimeMs: d.loadMs, localPerRequestMs: lm, hostedPerRequestMs: hm }) : null;
  const agree = rate === null ? 'agrees with the hosted one on no pair yet (nothing answered by both)' : `agrees with the hosted one on ${percent(rate)} [${intervalText(interval)}, ${d.agreed} of ${d.judged}]`;
  const speed =
    speedup === null ? 'has no timing to compare' : speedup >= 1 ? `answers ${speedup.toFixed(1)} times sooner at the median` : `answers ${(1 / speedup).toFixed(1)} times slower at the median`;
  const cost = perThousandUsd === null ? 'costs $0 against an unknown hosted price (set it in the price table)' : `costs $0 against ${usd(perThousandUsd)} per 1,000 requests`;
  const payback =
    paysBackAfter !== null
      ? `has paid back its load after ${paysBackAfter.toLocaleString('en-US')} request${paysBackAfter === 1 ? '' : 's'}`
      : d.loadMs === null
        ? 'its load time is unknown here'
        : 'never pays back its load time on speed (it is not faster per request)';
  return { sentence: `On this job the local model ${agree}, ${speed}, ${cost}, and ${payback}.`, rate, interval, speedup, perThousandUsd, paysBackAfter };
}

/** Decision input from a session's entries. */
export function sessionDecision(entries: readonly SessionEntry[], loadMs: number | null): Decision {
  const both = entries.filter((e) => e.verdict.verdict !== null);
  const priced = entries.filter((e) => e.hostedError === null && e.hostedCostUsd !== null);
  return decision({
    agreed: both.filter((e) => e.verdict.verdict === 'agree').length,
    judged: both.length,
    localE2eMs: both.flatMap((e) => (e.localE2eMs !== null ? [e.localE2eMs] : [])),
    hostedE2eMs: both.flatMap((e) => (e.hostedE2eMs !== null ? [e.hostedE2eMs] : [])),
    hostedCostPerRequestUsd: priced.length ? priced.reduce((s, e) => s + (e.hostedCostUsd ?? 0), 0) / priced.length : null,
    loadMs,
  });
}

const MEASURE_NAMES: Record<MeasureId, string> = {
  exact: 'Exact match',
  normalized: 'Normalized (case, whitespace, Unicode)',
  json: 'JSON (same keys and values)',
  numbers: 'Numbers (same values)',
  judge: 'Judge',
  similarity: `Similarity (ROUGE-L ≥ ${SIMILARITY_THRESHOLD})`,
};
export const measureName = (id: MeasureId) => MEASURE_NAMES[id];

/** Markdown-safe one-line cell. */
const cell = (s: string, max = 160) => {
  const t = s.replace(/\s+/gu, ' ').trim();
  return (t.length > max ? `${t.slice(0, max)}…` : t).replace(/[\\|*_`<>[\]]/gu, (c) => `\\${c}`);
};

export interface DisagreementRow {
  label: string;
  prompt: string;
  local: string;
  hosted: string;
  reason: string;
}

/** The decision as Markdown: the sentence, the tally per measure, and the disagreements. */
export function decisionMarkdown(title: string, d: Decision, t: Omit<Tally, 'localFirst' | 'hostedCostUsd' | 'costUnknown'>, disagreements: readonly DisagreementRow[], level = 1): string {
  const h = '#'.repeat(level);
  const lines = [`${h} ${cell(title, 200)}`, '', d.sentence, '', '| Measure | Agreed | Of | Share |', '|---|---:|---:|---:|'];
  for (const m of t.perMeasure) lines.push(`| ${measureName(m.id)} | ${m.agreed} | ${m.applicable} | ${m.applicable ? percent(m.agreed / m.applicable) : '—'} |`);
  lines.push(`| **Verdict** | ${t.agreed} | ${t.judged} | ${t.judged ? `${percent(t.agreed / t.judged)} (95% ${intervalText(t.interval)})` : '—'} |`, '');
  if (t.noVerdict) lines.push(`${t.noVerdict} without a verdict (an engine failed).`, '');
  if (t.judgeFailed) lines.push(`The judge failed on ${t.judgeFailed}; the other measures decided those.`, '');
  lines.push(`${h}# Disagreements (${disagreements.length})`, '');
  if (disagreements.length === 0) lines.push('None.');
  else {
    lines.push('| | Prompt | Local | Hosted | Why |', '|---|---|---|---|---|');
    for (const r of disagreements) lines.push(`| ${cell(r.label, 60)} | ${cell(r.prompt)} | ${cell(r.local)} | ${cell(r.hosted)} | ${cell(r.reason)} |`);
  }
  return `${lines.join('\n')}\n`;
}
