/** The report's pure parts: trade-offs and break-even per local × hosted pair, latency bins, comparing two runs. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { compareRuns, latencyBins, tradeOffs } from '../../src/eval/report';
import { parseRunRecord, type CellResult, type RunRecord } from '../../src/eval/results';
import { buildResultsTable } from '../../src/eval/results-table';
import type { RunMetrics } from '../../src/metrics/timing';

const metrics = (engine: 'local' | 'hosted', model: string, e2eMs: number): RunMetrics => ({
  engine,
  model,
  device: 'x',
  dtype: null,
  threads: null,
  crossOriginIsolated: null,
  ttftMs: e2eMs / 4,
  e2eMs,
  prefillTps: null,
  decodeTps: 100,
  engineDecodeTps: null,
  inputTokens: 1000,
  outputTokens: 100,
  tokenCountSource: 'usage',
});

const cell = (caseId: string, engineId: string, pass: boolean, m: RunMetrics): CellResult => ({
  caseId,
  engineId,
  status: 'done',
  output: 'x',
  finishReason: 'stop',
  metrics: m,
  score: { pass, score: pass ? 1 : 0, detail: '' },
  attempts: 1,
  finishedAt: 1,
});

function record(): RunRecord {
  const cases = ['a', 'b', 'c', 'd'].map((id) => ({ id, category: 'k', messages: [{ role: 'user' as const, content: id }], expected: id, scorer: { type: 'exact' as const } }));
  return {
    format: 'slm-playground-results',
    version: 2,
    id: 'r',
    name: 'r',
    createdAt: Date.UTC(2026, 10, 26, 3, 0),
    updatedAt: 0,
    status: 'done',
    suite: { format: 'slm-playground-suite', version: 1, id: 's', name: 's', cases },
    engines: [
      { id: 'local', kind: 'local', label: 'pocket', model: 'slm-pocket' },
      { id: 'hosted', kind: 'hosted', label: 'gpt', model: 'gpt-4o-mini', endpoint: 'https://api.openai.com/v1' },
    ],
    params: DEFAULT_GENERATION,
    prices: { 'gpt-4o-mini': { inputPerM: 0.15, outputPerM: 0.6 } },
    loads: [{ engineId: 'local', load: { downloadMs: 500, downloadBytes: 3_000_000, fromCache: false, sessionCreateMs: 200, warmupMs: 300, warmupTokens: 10, totalMs: 1000 } }],
    cells: [
      ...['a', 'b', 'c', 'd'].map((id, i) => cell(id, 'local', i < 2, metrics('local', 'slm-pocket', 100))),
      ...['a', 'b', 'c', 'd'].map((id) => cell(id, 'hosted', true, metrics('hosted', 'gpt-4o-mini', 350))),
    ],
  };
}

describe('tradeOffs', () => {
  it('compares each local engine with each hosted one: accuracy gap, p50s, break-even, hosted cost per 1,000 requests', () => {
    const rec = record();
    const [t] = tradeOffs(rec, buildResultsTable(rec));
    expect(t).toMatchObject({ localLoadMs: 1000, localDownloadBytes: 3_000_000, localP50: 100, hostedP50: 350, accuracyDelta: -0.5 });
    // 1000 ms load, 250 ms saved per request: 4 requests (4 × 100 + 1000 = 1400 ≤ 4 × 350 = 1400).
    expect(t?.breakEvenRequests).toBe(4);
    // (1000 × 0.15 + 100 × 0.6) / 1e6 = $0.00021 per request → $0.21 per 1,000.
    expect(t?.hostedCostPer1k).toBeCloseTo(0.21, 10);
  });

  it('has no break-even when local is slower per request, and none without a recorded load', () => {
    const slow = record();
    slow.cells = slow.cells.map((c) => (c.engineId === 'local' ? { ...c, metrics: metrics('local', 'slm-pocket', 500) } : c));
    expect(tradeOffs(slow, buildResultsTable(slow))[0]?.breakEvenRequests).toBeNull();
    const noLoad = { ...record(), loads: [] };
    expect(tradeOffs(noLoad, buildResultsTable(noLoad))[0]).toMatchObject({ localLoadMs: null, breakEvenRequests: null });
  });
});

describe('latencyBins', () => {
  it('puts every done cell of every column in shared bins', () => {
    const bins = latencyBins(buildResultsTable(record()), 5);
    expect(bins).toHaveLength(5);
    expect(bins[0]).toMatchObject({ from: 100, counts: [4, 0] });
    expect(bins[4]).toMatchObject({ to: 350, counts: [0, 4] });
    expect(bins.reduce((s, b) => s + (b.counts[0] ?? 0) + (b.counts[1] ?? 0), 0)).toBe(8);
  });
});

describe('compareRuns', () => {
  it('puts two runs side by side on the cases they share, as a valid record', () => {
    const a = record();
    const b = { ...record(), id: 'r2', createdAt: Date.UTC(2026, 10, 27, 9, 30), suite: { ...record().suite, cases: record().suite.cases.slice(1) } };
    b.cells = b.cells.filter((c) => c.caseId !== 'a');
    const both = parseRunRecord(JSON.parse(JSON.stringify(compareRuns(a, b))));
    expect(both.suite.cases.map((c) => c.id)).toEqual(['b', 'c', 'd']);
    expect(both.engines.map((e) => e.id)).toEqual(['a:local', 'a:hosted', 'b:local', 'b:hosted']);
    expect(both.engines[2]?.label).toBe('pocket · 2026-11-27 09:30');
    const t = buildResultsTable(both);
    expect(t.totals.map((x) => [x.passed, x.scored])).toEqual([
      [1, 3],
      [3, 3],
      [1, 3],
      [3, 3],
    ]);
  });
});
