import { describe, expect, it } from 'vitest';
import { suiteAgreement, suiteAgreementMarkdown } from '../../src/eval/agreement';
import { importCsv, importJsonl } from '../../src/eval/import';
import { parseRunRecord, RESULTS_FORMAT, RESULTS_VERSION, type CellResult, type RunRecord } from '../../src/eval/results';
import { buildResultsTable } from '../../src/eval/results-table';
import { toJson } from '../../src/eval/export';
import { parseSuite, SUITE_FORMAT } from '../../src/eval/suite';
import { scoreOutput } from '../../src/eval/scorers';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import type { RunMetrics } from '../../src/metrics/timing';
import type { ScoringSandbox } from '../../src/eval/sandbox/protocol';

const m = (engine: 'local' | 'hosted', e2eMs: number): RunMetrics => ({
  engine,
  model: engine === 'local' ? 'slm-pocket' : 'gpt-4o-mini',
  device: engine === 'local' ? 'wasm' : 'remote',
  dtype: engine === 'local' ? 'fp32' : null,
  threads: engine === 'local' ? 1 : null,
  crossOriginIsolated: true,
  ttftMs: e2eMs / 4,
  e2eMs,
  prefillTps: null,
  decodeTps: null,
  engineDecodeTps: null,
  inputTokens: 10,
  outputTokens: 5,
  tokenCountSource: 'estimated',
});

const cell = (caseId: string, engineId: string, output: string, e2e: number, over: Partial<CellResult> = {}): CellResult => ({
  caseId,
  engineId,
  status: 'done',
  output,
  finishReason: 'stop',
  metrics: m(engineId === 'pocket' ? 'local' : 'hosted', e2e),
  score: null,
  attempts: 1,
  finishedAt: 1,
  ...over,
});

function record(): RunRecord {
  const suite = importJsonl(
    ['{"id":"sum","category":"math","prompt":"What is 999+1?"}', '{"id":"cap","category":"geo","prompt":"Capital of Peru?"}', '{"id":"json","category":"format","prompt":"Give {a,b} as JSON"}', '{"id":"up","category":"geo","prompt":"Capital of Chile?"}', '{"id":"exp","category":"math","prompt":"2+2?","expected":"4"}'].join('\n'),
    { id: 'prompts', name: 'Prompts only' },
  );
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    id: 'r1',
    name: 'Run',
    createdAt: 0,
    updatedAt: 0,
    status: 'done',
    suite,
    engines: [
      { id: 'pocket', kind: 'local', label: 'Pocket', model: 'slm-pocket' },
      { id: 'mini', kind: 'hosted', label: 'Mini', model: 'gpt-4o-mini' },
    ],
    params: DEFAULT_GENERATION,
    prices: { 'gpt-4o-mini': { inputPerM: 0.15, outputPerM: 0.6 } },
    loads: [{ engineId: 'pocket', load: { downloadMs: 100, downloadBytes: 1, fromCache: false, sessionCreateMs: 100, warmupMs: 100, warmupTokens: 1, totalMs: 3000 } }],
    cells: [
      cell('sum', 'pocket', '1000', 100),
      cell('sum', 'mini', 'The sum is 1,000.', 1100),
      cell('cap', 'pocket', 'Santiago', 120),
      cell('cap', 'mini', 'Lima', 1000),
      cell('json', 'pocket', '{"b": 2, "a": 1}', 80),
      cell('json', 'mini', '```json\n{"a": 1, "b": 2}\n```', 900),
      cell('up', 'pocket', 'Santiago', 90),
      cell('up', 'mini', '', 0, { status: 'error', error: 'rate limited (429)', metrics: null, finishReason: 'error' }),
      cell('exp', 'pocket', '4', 50, { score: { pass: true, score: 1, detail: 'matches "4"' } }),
      cell('exp', 'mini', '5', 800, { score: { pass: false, score: 0, detail: 'expected "4", got "5"' } }),
    ],
  };
}

describe('suites without expected answers', () => {
  it('a prompt alone imports as an agreement case (JSONL, CSV and suite JSON), and scorers leave it to the table', async () => {
    const j = importJsonl('{"prompt": "Tell me a joke"}\n{"prompt": "2+2?", "expected": "4"}');
    expect(j.cases.map((c) => c.scorer.type)).toEqual(['agreement', 'exact']);
    const c = importCsv('id,category,prompt\nq1,chat,Hello there\nq2,chat,"Say ""hi"""\n');
    expect(c.cases.map((x) => [x.id, x.scorer.type, x.expected])).toEqual([
      ['q1', 'agreement', undefined],
      ['q2', 'agreement', undefined],
    ]);
    const s = parseSuite({ format: SUITE_FORMAT, version: 1, id: 's', name: 'S', cases: [{ id: 'a', category: 'x', messages: [{ role: 'user', content: 'hi' }] }] });
    expect(s.cases[0]!.scorer).toEqual({ type: 'agreement' });
    // Agreement cases never reach the scoring sandbox: one that throws when used proves it.
    const unused: ScoringSandbox = {
      matchRegex: () => Promise.reject(new Error('agreement cases must not use the sandbox')),
      validateJsonSchema: () => Promise.reject(new Error('agreement cases must not use the sandbox')),
      dispose: () => undefined,
    };
    expect(await scoreOutput(s.cases[0]!, 'anything', unused)).toBeNull();
  });

  it('the table scores each local answer against the hosted one; a hosted error leaves it unscored', () => {
    const t = buildResultsTable(record());
    const local = (id: string) => t.body.find((r) => r.case.id === id)!.cells[0]!;
    expect(local('sum').score).toMatchObject({ pass: true, detail: 'vs hosted: agree (numbers): the same value, 1000' });
    expect(local('cap').score).toMatchObject({ pass: false });
    expect(local('json').score).toMatchObject({ pass: true, detail: 'vs hosted: agree (json): the same JSON keys and values' });
    expect(local('up').score).toBeNull();
    expect(local('exp').score?.detail).toBe('matches "4"'); // a case with an expected answer keeps its own scorer
    expect(t.totals[0]).toMatchObject({ scored: 3 + 1, passed: 2 + 1 });
    expect(t.body.find((r) => r.case.id === 'sum')!.cells[1]!.score).toBeNull(); // the reference is not scored
    // Derived, not stored: the record is unchanged and the same after a JSON round trip.
    expect(record().cells.every((c) => c.caseId === 'exp' || c.score === null)).toBe(true);
    expect(buildResultsTable(parseRunRecord(JSON.parse(toJson(record()))))).toEqual(t);
  });

  it('the report: agreement overall and per category with intervals, disagreements, the Different set and the decision', () => {
    const r = record();
    const a = suiteAgreement(r, buildResultsTable(r))!;
    expect(a).toMatchObject({ agreed: 2, judged: 4, noVerdict: 1 });
    expect(a.perCategory).toEqual([
      { category: 'math', agreed: 1, judged: 2, interval: expect.objectContaining({ low: expect.any(Number) }) },
      { category: 'geo', agreed: 0, judged: 1, interval: expect.objectContaining({ low: 0 }) },
      { category: 'format', agreed: 1, judged: 1, interval: expect.objectContaining({ high: 1 }) },
    ]);
    expect([...a.different].sort()).toEqual(['cap', 'exp']);
    expect(a.disagreements.map((d) => d.agreement.decidedBy)).toEqual(['similarity', 'numbers']);
    // Medians of the pairs with a verdict: local 90 ms (80, 100, 120, 50 → 90), hosted 950 ms; load 3 s.
    expect(a.decision.sentence).toBe(
      'On this job the local model agrees with the hosted one on 50% [15–85%, 2 of 4], answers 10.6 times sooner at the median, costs $0 against $0.0036 per 1,000 requests, and has paid back its load after 4 requests.',
    );
    const md = suiteAgreementMarkdown(a, 'Prompts only');
    expect(md).toContain('| geo | 0 | 1 | 0% (0–79%) |');
    expect(md.indexOf('| Category |')).toBeLessThan(md.indexOf('## Disagreements (2)'));
  });

  it('no hosted engine, no agreement', () => {
    const r = { ...record(), engines: [record().engines[0]!] };
    expect(suiteAgreement(r, buildResultsTable(r))).toBeNull();
    expect(buildResultsTable(r).totals[0]).toMatchObject({ scored: 1 });
  });
});
