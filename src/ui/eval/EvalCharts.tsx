/**
 * The report's charts as small SVG (loaded only with the report): quality against latency, with
 * cost as the point size, and the latency distribution per engine on shared bins. Each chart is an
 * image with a summary for its accessible name, every mark has a hover title, and the histogram's
 * numbers are also in a table for screen readers. Geometry: chart-model.ts.
 */
import { BOX, histogramOf, scatterOf, type Tick } from './chart-model';
import type { RunRecord } from '../../eval/results';
import type { ResultsTable } from '../../eval/results-table';

function Axes({ xTicks, yTicks, xLabel, yLabel }: { xTicks: Tick[]; yTicks: Tick[]; xLabel: string; yLabel: string }) {
  const bottom = BOX.height - BOX.bottom;
  const right = BOX.width - BOX.right;
  return (
    <g className="axes" aria-hidden="true">
      {yTicks.map((t, k) => (
        <g key={`y${k}`}>
          <line className="grid" x1={BOX.left} x2={right} y1={t.pos} y2={t.pos} />
          <text x={BOX.left - 6} y={t.pos} textAnchor="end" dominantBaseline="middle">
            {t.label}
          </text>
        </g>
      ))}
      {xTicks.map((t, k) => (
        <g key={`x${k}`}>
          <line className="grid" x1={t.pos} x2={t.pos} y1={BOX.top} y2={bottom} />
          <text x={t.pos} y={bottom + 14} textAnchor="middle">
            {t.label}
          </text>
        </g>
      ))}
      <line className="axis" x1={BOX.left} x2={right} y1={bottom} y2={bottom} />
      <line className="axis" x1={BOX.left} x2={BOX.left} y1={BOX.top} y2={bottom} />
      <text x={(BOX.left + right) / 2} y={BOX.height - 6} textAnchor="middle">
        {xLabel}
      </text>
      <text transform={`translate(12 ${(BOX.top + bottom) / 2}) rotate(-90)`} textAnchor="middle">
        {yLabel}
      </text>
    </g>
  );
}

function Legend({ items }: { items: { name: string; color: string; note?: string }[] }) {
  return (
    <ul className="legend" aria-hidden="true">
      {items.map((i, k) => (
        <li key={k}>
          <span className="swatch" style={{ background: i.color }} />
          {i.name}
          {i.note ? <span className="muted"> · {i.note}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export default function EvalCharts({ table }: { record: RunRecord; table: ResultsTable }) {
  const scatter = scatterOf(table);
  const hist = histogramOf(table);
  if (!scatter) return null;
  const viewBox = `0 0 ${BOX.width} ${BOX.height}`;
  return (
    <div className="charts" data-testid="eval-charts">
      <figure>
        <figcaption>Quality vs latency (point size: cost)</figcaption>
        <svg viewBox={viewBox} role="img" aria-label={scatter.summary} data-testid="chart-quality">
          <Axes xTicks={scatter.xTicks} yTicks={scatter.yTicks} xLabel="p50 latency" yLabel="accuracy" />
          {scatter.points.map((p, k) => (
            <circle key={k} cx={p.cx} cy={p.cy} r={p.r} fill={p.unpriced ? 'none' : p.color} fillOpacity={0.75} stroke={p.color} strokeWidth={2} data-testid="chart-point">
              <title>{p.text}</title>
            </circle>
          ))}
        </svg>
        <Legend items={scatter.points.map((p) => ({ name: p.name, color: p.color, note: p.detail }))} />
      </figure>
      {hist && (
        <figure>
          <figcaption>Latency distribution (end to end)</figcaption>
          <svg viewBox={viewBox} role="img" aria-label={hist.summary} data-testid="chart-latency">
            <Axes xTicks={hist.xTicks} yTicks={hist.yTicks} xLabel="end-to-end latency" yLabel="cases" />
            {hist.bars.map((b, k) => (
              <rect key={k} x={b.x} y={b.y} width={b.width} height={b.height} fill={b.color} data-testid="chart-bar">
                <title>{b.text}</title>
              </rect>
            ))}
          </svg>
          <Legend items={hist.engines} />
          {/* A table is as wide as its content whatever its width says: the hiding box is a div around it. */}
          <div className="chart-data">
            <table>
              <caption>Cases per latency bin</caption>
              <thead>
                <tr>
                  <th scope="col">End-to-end latency</th>
                  {hist.engines.map((e, k) => (
                    <th key={k} scope="col">
                      {e.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {hist.rows.map((r, k) => (
                  <tr key={k}>
                    <th scope="row">{r.range}</th>
                    {r.counts.map((n, j) => (
                      <td key={j}>{n}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </figure>
      )}
    </div>
  );
}
