/** The last turn across panes: who answered first, ratios, tokens, cost, bytes that left the device. */
import type { StripRow } from '../compare/strip';
import { fmtUsd } from '../compare/pricing';
import { fmtBytes, fmtMs, fmtTps, tpsTitle } from '../metrics/format';

const ratio = (x: number | null) => (x === null ? '' : x === 1 ? ' (best)' : ` (${x.toFixed(x < 10 ? 2 : 0)}×)`);

export function ComparisonStrip({ rows }: { rows: StripRow[] }) {
  if (rows.length < 2) return null;
  return (
    <table className="metrics strip" data-testid="comparison-strip">
      <thead>
        <tr>
          <th>Last turn</th>
          <th>TTFT</th>
          <th>Decode</th>
          <th>Tokens in/out</th>
          <th>Est. cost</th>
          <th>Prompt bytes sent</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.paneId} data-pane={r.paneId}>
            <td>
              {r.first && <span className="badge ok">first</span>} {r.label}
            </td>
            {r.error ? (
              <td colSpan={5} className="error">
                {r.error}
              </td>
            ) : (
              <>
                <td>
                  {fmtMs(r.ttftMs)}
                  <span className="muted small">{r.ttftMs === null ? '' : ratio(r.ttftRatio)}</span>
                </td>
                <td title={tpsTitle(r.decodeTps)}>
                  {fmtTps(r.decodeTps)}
                  <span className="muted small">{r.decodeRatio === null ? '' : r.decodeRatio === 1 ? ' (best)' : ` (${r.decodeRatio.toFixed(2)}×)`}</span>
                </td>
                <td>
                  {r.inputTokens ?? '—'} / {r.outputTokens ?? '—'}
                  {r.estimated ? ' (est.)' : ''}
                </td>
                <td>{fmtUsd(r.costUsd)}</td>
                <td>{r.bytesSent === 0 ? 'none (stayed on device)' : fmtBytes(r.bytesSent)}</td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
