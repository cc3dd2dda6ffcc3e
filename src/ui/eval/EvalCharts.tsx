/**
 * Charts (recharts, loaded only with the report): quality against latency, with cost as the point
 * size, and the latency distribution per engine on shared bins.
 */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { latencyBins } from '../../eval/report';
import type { ResultsTable, RunRecord } from '../../eval/results';

const COLORS = ['#2f5bd3', '#d3542f', '#2f9d5b', '#8a3fd3', '#c79a00', '#3fa9d3'];

export default function EvalCharts({ table }: { record: RunRecord; table: ResultsTable }) {
  const points = table.totals.map((t, j) => ({
    name: table.head.engines[j]?.label ?? t.engineId,
    latency: t.e2e.p50 === null ? null : Math.round(t.e2e.p50),
    accuracy: t.accuracy === null ? null : Math.round(t.accuracy * 1000) / 10,
    cost: t.costUsd ?? 0,
  }));
  const bins = latencyBins(table).map((b) => {
    const row: Record<string, number | string> = { range: `${Math.round(b.from)}–${Math.round(b.to)} ms` };
    b.counts.forEach((n, j) => (row[table.head.engines[j]?.label ?? String(j)] = n));
    return row;
  });
  if (points.every((p) => p.latency === null)) return null;
  return (
    <div className="charts" data-testid="eval-charts">
      <figure>
        <figcaption>Quality vs latency (point size: cost)</figcaption>
        <ResponsiveContainer width="100%" height={260}>
          <ScatterChart margin={{ top: 10, right: 20, bottom: 20, left: 0 }}>
            <CartesianGrid />
            <XAxis type="number" dataKey="latency" name="p50 latency" unit=" ms" />
            <YAxis type="number" dataKey="accuracy" name="accuracy" unit="%" domain={[0, 100]} />
            <ZAxis type="number" dataKey="cost" range={[60, 400]} name="cost (USD)" />
            <Tooltip cursor={{ strokeDasharray: '3 3' }} />
            <Legend />
            {points.map((p, i) => (
              <Scatter key={p.name} name={p.name} data={[p]} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </ScatterChart>
        </ResponsiveContainer>
      </figure>
      <figure>
        <figcaption>Latency distribution (end to end)</figcaption>
        <ResponsiveContainer width="100%" height={260}>
          <BarChart data={bins} margin={{ top: 10, right: 20, bottom: 20, left: 0 }}>
            <CartesianGrid />
            <XAxis dataKey="range" fontSize={10} />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            {table.head.engines.map((e, i) => (
              <Bar key={e.id} dataKey={e.label} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}
