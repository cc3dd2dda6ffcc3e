/**
 * A suite run read as "how often does the local model say what the hosted one says": every case
 * both engines answered, the hosted answer taken as the reference (compare/agreement.ts), overall
 * and per category with 95% Wilson intervals, the disagreements, and the decision sentence. Cases
 * with only a prompt (scorer "agreement") are also scored this way in the results table.
 */
import type { Agreement } from '../compare/agreement';
import { decision, decisionMarkdown, intervalText, percent, tallyVerdicts, verdictRecord, type Decision } from '../compare/agreement-tally';
import { wilsonInterval, type Interval } from '../metrics/stats';
import { pairAgreement } from './agreement-score';
import type { EngineColumn, RunRecord } from './results';
import type { ResultsTable } from './results-table';

export interface SuiteAgreementRow {
  caseId: string;
  category: string;
  prompt: string;
  local: string;
  hosted: string;
  agreement: Agreement;
}

export interface CategoryAgreement {
  category: string;
  agreed: number;
  judged: number;
  interval: Interval | null;
}

export interface SuiteAgreement {
  local: EngineColumn;
  hosted: EngineColumn;
  rows: SuiteAgreementRow[];
  agreed: number;
  judged: number;
  interval: Interval | null;
  noVerdict: number;
  perCategory: CategoryAgreement[];
  disagreements: SuiteAgreementRow[];
  /** Case ids where the local answer differs from the hosted one (the matrix's "Different" filter). */
  different: ReadonlySet<string>;
  decision: Decision;
}

const lastUser = (msgs: { role: string; content: string }[]) => [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';

/** Agreement of the first local engine with the first hosted one; null when the run lacks either. */
export function suiteAgreement(record: RunRecord, table: ResultsTable): SuiteAgreement | null {
  const li = table.head.engines.findIndex((e) => e.kind === 'local');
  const hi = table.head.engines.findIndex((e) => e.kind === 'hosted');
  const local = table.head.engines[li];
  const hosted = table.head.engines[hi];
  if (!local || !hosted) return null;
  const rows: SuiteAgreementRow[] = [];
  const localE2e: number[] = [];
  const hostedE2e: number[] = [];
  for (const row of table.body) {
    const l = row.cells[li];
    const h = row.cells[hi];
    if (!l || !h) continue;
    const agreement = pairAgreement(l, h);
    rows.push({ caseId: row.case.id, category: row.case.category, prompt: lastUser(row.case.messages), local: l.output, hosted: h.output, agreement });
    if (agreement.verdict !== null && l.metrics && h.metrics) {
      localE2e.push(l.metrics.e2eMs);
      hostedE2e.push(h.metrics.e2eMs);
    }
  }
  const judged = rows.filter((r) => r.agreement.verdict !== null);
  const agreed = judged.filter((r) => r.agreement.verdict === 'agree').length;
  const perCategory = table.categories.map((category) => {
    const inCat = judged.filter((r) => r.category === category);
    const a = inCat.filter((r) => r.agreement.verdict === 'agree').length;
    return { category, agreed: a, judged: inCat.length, interval: wilsonInterval(a, inCat.length) };
  });
  const disagreements = rows.filter((r) => r.agreement.verdict === 'disagree');
  const ht = table.totals[hi];
  const requests = ht ? ht.done + ht.errors : 0;
  return {
    local,
    hosted,
    rows,
    agreed,
    judged: judged.length,
    interval: wilsonInterval(agreed, judged.length),
    noVerdict: rows.length - judged.length,
    perCategory,
    disagreements,
    different: new Set(disagreements.map((r) => r.caseId)),
    decision: decision({
      agreed,
      judged: judged.length,
      localE2eMs: localE2e,
      hostedE2eMs: hostedE2e,
      hostedCostPerRequestUsd: ht && ht.costUsd !== null && requests > 0 ? ht.costUsd / requests : null,
      loadMs: record.loads.find((x) => x.engineId === local.id)?.load?.totalMs ?? null,
    }),
  };
}

/** The agreement section of a suite's Markdown export. */
export function suiteAgreementMarkdown(a: SuiteAgreement, title: string, level = 1): string {
  const t = tallyVerdicts(a.rows.map((r) => verdictRecord(r.agreement)));
  const md = decisionMarkdown(
    title,
    a.decision,
    t,
    a.disagreements.map((r) => ({ label: r.caseId, prompt: r.prompt, local: r.local, hosted: r.hosted, reason: r.agreement.reason })),
    level,
  );
  const cats = ['', '| Category | Agreed | Of | Share (95% interval) |', '|---|---:|---:|---:|'];
  for (const c of a.perCategory) cats.push(`| ${c.category.replace(/[\\|*_`<>[\]]/gu, (x) => `\\${x}`)} | ${c.agreed} | ${c.judged} | ${c.judged ? `${percent(c.agreed / c.judged)} (${intervalText(c.interval)})` : '—'} |`);
  // Per category after the per-measure table, before the disagreements.
  const at = md.indexOf(`\n${'#'.repeat(level + 1)} Disagreements`);
  return at < 0 ? md + cats.join('\n') : `${md.slice(0, at)}${cats.join('\n')}\n${md.slice(at)}`;
}
