/**
 * The report's two charts as plain geometry (pure, tested): quality against latency with cost as
 * the point size, and the latency distribution per engine on shared bins. EvalCharts.tsx draws it
 * as SVG; the summaries are the charts' accessible names.
 */
import { latencyBins } from '../../eval/report';
import type { ResultsTable } from '../../eval/results-table';
import { linear, niceTicks } from '../../lib/scale';
import { fmtMs } from '../../metrics/format';

export const COLORS = ['#2f5bd3', '#d3542f', '#2f9d5b', '#8a3fd3', '#c79a00', '#3fa9d3'];
/** The SVG's own coordinates (it scales to its box). */
export const BOX = { width: 480, height: 260, left: 46, right: 14, top: 12, bottom: 42 };
const PLOT = { x0: BOX.left, x1: BOX.width - BOX.right, y0: BOX.height - BOX.bottom, y1: BOX.top };
/** Point radius, px: the cheapest engine (or one at $0) gets MIN_R, the dearest MAX_R; area ∝ cost. */
const MIN_R = 5;
const MAX_R = 14;

export interface Tick {
  pos: number;
  label: string;
}

export interface ScatterPoint {
  name: string;
  color: string;
  cx: number;
  cy: number;
  r: number;
  /** No price for a hosted model: drawn as a ring. */
  unpriced: boolean;
  /** "80% accuracy, 120 ms p50 latency, $0" */
  detail: string;
  text: string;
}

export interface Scatter {
  points: ScatterPoint[];
  xTicks: Tick[];
  yTicks: Tick[];
  summary: string;
}

export const usd = (v: number | null) => (v === null ? 'no price' : v === 0 ? '$0' : v < 0.01 ? `$${v.toFixed(5)}` : `$${v.toFixed(3)}`);
const name = (table: ResultsTable, j: number) => table.head.engines[j]?.label ?? table.totals[j]?.engineId ?? String(j);

export function scatterOf(table: ResultsTable): Scatter | null {
  const rows = table.totals
    .map((t, j) => ({ j, name: name(table, j), latency: t.e2e.p50, acc: t.accuracy === null ? null : t.accuracy * 100, cost: t.costUsd }))
    .filter((p): p is typeof p & { latency: number; acc: number } => p.latency !== null && p.acc !== null);
  if (rows.length === 0) return null;
  const xs = niceTicks(0, Math.max(...rows.map((p) => p.latency)), 5);
  const x = linear([0, xs[xs.length - 1]!], [PLOT.x0, PLOT.x1]);
  const y = linear([0, 100], [PLOT.y0, PLOT.y1]);
  const maxCost = Math.max(0, ...rows.map((p) => p.cost ?? 0));
  const points = rows.map((p) => {
    const detail = `${Math.round(p.acc * 10) / 10}% accuracy, ${fmtMs(p.latency)} p50 latency, ${usd(p.cost)}`;
    const r = maxCost > 0 && p.cost !== null ? MIN_R + (MAX_R - MIN_R) * Math.sqrt(p.cost / maxCost) : MIN_R;
    return { name: p.name, color: COLORS[p.j % COLORS.length]!, cx: x(p.latency), cy: y(p.acc), r, unpriced: p.cost === null, detail, text: `${p.name}: ${detail}` };
  });
  return {
    points,
    xTicks: xs.map((v) => ({ pos: x(v), label: fmtMs(v) })),
    yTicks: [0, 25, 50, 75, 100].map((v) => ({ pos: y(v), label: `${v}%` })),
    summary: `Quality against latency, point size is cost. ${points.map((p) => p.text).join('; ')}.`,
  };
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  color: string;
  text: string;
}

export interface Histogram {
  bars: Bar[];
  xTicks: Tick[];
  yTicks: Tick[];
  engines: { name: string; color: string }[];
  /** One row per bin, for the table that stands in for the bars. */
  rows: { range: string; counts: number[] }[];
  summary: string;
}

export function histogramOf(table: ResultsTable): Histogram | null {
  const bins = latencyBins(table);
  if (bins.length === 0) return null;
  const engines = table.head.engines.map((_, j) => ({ name: name(table, j), color: COLORS[j % COLORS.length]! }));
  const lo = bins[0]!.from;
  const hi = bins[bins.length - 1]!.to;
  const x = linear([lo, hi], [PLOT.x0, PLOT.x1]);
  const ys = niceTicks(0, Math.max(1, ...bins.flatMap((b) => b.counts)), 4, true);
  const y = linear([0, ys[ys.length - 1]!], [PLOT.y0, PLOT.y1]);
  const slot = (PLOT.x1 - PLOT.x0) / bins.length;
  const barW = (slot * 0.8) / Math.max(1, engines.length);
  const range = (b: { from: number; to: number }) => `${fmtMs(b.from)}–${fmtMs(b.to)}`;
  const bars: Bar[] = [];
  bins.forEach((b, i) =>
    b.counts.forEach((n, j) => {
      if (n === 0) return;
      const left = PLOT.x0 + i * slot + slot * 0.1 + j * barW;
      bars.push({ x: left, y: y(n), width: barW, height: PLOT.y0 - y(n), color: engines[j]?.color ?? COLORS[0]!, text: `${engines[j]?.name}, ${range(b)}: ${n} case${n === 1 ? '' : 's'}` });
    }),
  );
  // About five edge labels, on bin edges so they line up with the bars.
  const every = Math.max(1, Math.ceil(bins.length / 5));
  const edges = [...bins.map((b) => b.from), hi];
  const xTicks = edges.flatMap((v, i) => (i % every === 0 || i === edges.length - 1 ? [{ pos: x(v), label: fmtMs(v) }] : []));
  const totals = engines.map((e, j) => `${e.name} ${bins.reduce((s, b) => s + (b.counts[j] ?? 0), 0)}`);
  return {
    bars,
    xTicks,
    yTicks: ys.map((v) => ({ pos: y(v), label: String(v) })),
    engines,
    rows: bins.map((b) => ({ range: range(b), counts: b.counts })),
    summary: `Latency distribution, end to end, from ${fmtMs(lo)} to ${fmtMs(hi)} in ${bins.length} bins; cases per engine: ${totals.join(', ')}. The table below lists every bin.`,
  };
}
