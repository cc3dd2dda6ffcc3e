/**
 * The report's charts (src/ui/eval/chart-model.ts + EvalCharts.tsx): same information as before
 * (quality vs p50 latency with cost as point size; latency histogram per engine on shared bins),
 * with accessible names and a table that carries the histogram's numbers.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { type CellResult, type RunRecord } from '../../src/eval/results';
import { buildResultsTable } from '../../src/eval/results-table';
import type { RunMetrics } from '../../src/metrics/timing';
import { BOX, histogramOf, scatterOf } from '../../src/ui/eval/chart-model';
import EvalCharts from '../../src/ui/eval/EvalCharts';

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

/** pocket: 2/4 right at 100–160 ms, $0; gpt: 4/4 at 350 ms, priced; other: 1/4 at 900 ms, no price. */
function record(): RunRecord {
  const ids = ['a', 'b', 'c', 'd'];
  const cases = ids.map((id) => ({ id, category: 'k', messages: [{ role: 'user' as const, content: id }], expected: id, scorer: { type: 'exact' as const } }));
  return {
    format: 'slm-playground-results',
    version: 2,
    id: 'r',
    name: 'r',
    createdAt: 0,
    updatedAt: 0,
    status: 'done',
    suite: { format: 'slm-playground-suite', version: 1, id: 's', name: 's', cases },
    engines: [
      { id: 'local', kind: 'local', label: 'pocket', model: 'slm-pocket' },
      { id: 'hosted', kind: 'hosted', label: 'gpt', model: 'gpt-4o-mini', endpoint: 'https://api.openai.com/v1' },
      { id: 'other', kind: 'hosted', label: 'other', model: 'unpriced', endpoint: 'https://example.com/v1' },
    ],
    params: DEFAULT_GENERATION,
    prices: { 'gpt-4o-mini': { inputPerM: 0.15, outputPerM: 0.6 } },
    loads: [],
    cells: [
      ...ids.map((id, i) => cell(id, 'local', i < 2, metrics('local', 'slm-pocket', 100 + i * 20))),
      ...ids.map((id) => cell(id, 'hosted', true, metrics('hosted', 'gpt-4o-mini', 350))),
      ...ids.map((id, i) => cell(id, 'other', i === 0, metrics('hosted', 'unpriced', 900))),
    ],
  };
}

describe('report charts', () => {
  const rec = record();
  const table = buildResultsTable(rec);

  it('quality vs latency: one point per engine, placed by p50 and accuracy, sized by cost', () => {
    const s = scatterOf(table)!;
    expect(s.points.map((p) => p.name)).toEqual(['pocket', 'gpt', 'other']);
    const [pocket, gpt, other] = s.points as [typeof s.points[0], typeof s.points[0], typeof s.points[0]];
    // Further right = slower; higher up (smaller y) = more accurate.
    expect(pocket.cx).toBeLessThan(gpt.cx);
    expect(gpt.cx).toBeLessThan(other.cx);
    expect(gpt.cy).toBeLessThan(pocket.cy);
    expect(pocket.cy).toBeLessThan(other.cy);
    expect(gpt.cy).toBeCloseTo(BOX.top, 5); // 100%
    // The priced engine is the largest point; $0 and no price get the smallest, no price as a ring.
    expect(gpt.r).toBeGreaterThan(pocket.r);
    expect(other.unpriced).toBe(true);
    expect(pocket.unpriced).toBe(false);
    expect(s.summary).toMatch(/pocket: 50% accuracy, 130 ms p50 latency, \$0; gpt: 100% accuracy, 350 ms p50 latency, \$0\.\d+; other: 25% accuracy, 900 ms p50 latency, no price/);
    // Every point lies inside the plot.
    for (const p of s.points) {
      expect(p.cx).toBeGreaterThanOrEqual(BOX.left);
      expect(p.cx).toBeLessThanOrEqual(BOX.width - BOX.right);
    }
  });

  it('latency distribution: every done cell counted once, in its engine colour, on shared bins', () => {
    const h = histogramOf(table)!;
    expect(h.rows).toHaveLength(12);
    expect(h.rows.map((r) => r.counts).reduce((a, c) => a.map((v, j) => v + (c[j] ?? 0)), [0, 0, 0])).toEqual([4, 4, 4]);
    expect(h.bars.reduce((n, b) => n + Number(/: (\d+) case/.exec(b.text)?.[1]), 0)).toBe(12);
    // Each engine's four cells share one bin here: pocket the first, gpt the fourth, other the last.
    expect(h.bars.map((b) => b.text)).toEqual(['pocket, 100 ms–167 ms: 4 cases', 'gpt, 300 ms–367 ms: 4 cases', 'other, 833 ms–900 ms: 4 cases']);
    expect(h.bars.map((b) => b.color)).toEqual(h.engines.map((e) => e.color));
    expect(new Set(h.bars.map((b) => b.height)).size).toBe(1);
    expect(h.bars[0]!.x).toBeLessThan(h.bars[1]!.x);
    expect(h.bars[1]!.x).toBeLessThan(h.bars[2]!.x);
    expect(h.summary).toMatch(/from 100 ms to 900 ms in 12 bins; cases per engine: pocket 4, gpt 4, other 4/);
  });

  it('renders two labelled images, a hover title per mark and the histogram as a table', () => {
    const html = renderToStaticMarkup(<EvalCharts record={rec} table={table} />);
    expect(html.match(/role="img"/g)).toHaveLength(2);
    expect(html).toContain('aria-label="Quality against latency, point size is cost. pocket: 50% accuracy');
    expect(html).toContain('aria-label="Latency distribution, end to end');
    expect(html.match(/data-testid="chart-point"/g)).toHaveLength(3);
    expect(html.match(/<title>/g)?.length).toBeGreaterThanOrEqual(3 + 3);
    expect(html).toContain('<caption>Cases per latency bin</caption>');
    expect(html.match(/<tr>/g)).toHaveLength(13);
  });

  it('draws nothing before any cell has finished', () => {
    const empty = buildResultsTable({ ...rec, cells: [] });
    expect(scatterOf(empty)).toBeNull();
    expect(histogramOf(empty)).toBeNull();
    expect(renderToStaticMarkup(<EvalCharts record={rec} table={empty} />)).toBe('');
  });
});
