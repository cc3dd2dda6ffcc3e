/** The last turn across panes: who answered first, ratios, tokens, cost, bytes that left the device. */
import type { StripRow } from '../compare/strip';
import { fmtUsd } from '../compare/pricing';
import { fmtBytes, fmtMs, fmtTps, tpsTitle } from '../metrics/format';
import { JsonBadges } from './json-deferred';

const ratio = (x: number | null) => (x === null ? '' : x === 1 ? ' (best)' : ` (${x.toFixed(x < 10 ? 2 : 0)}×)`);

export function ComparisonStrip({ rows }: { rows: StripRow[] }) {
  if (rows.length < 2) return null;
  const json = rows.some((r) => r.json || r.constraintRefused);
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
          {json && <th>JSON output</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.paneId} data-pane={r.paneId}>
            <td>
              {r.first && <span className="badge ok">first</span>} {r.label}
            </td>
            {r.error ? (
              <td colSpan={json ? 6 : 5} className="error">
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
                {json && (
                  <td data-testid="strip-json">
                    {r.json && <JsonBadges text={r.json.output} finish={r.json.finishReason} format={r.json.format} />}
                    {/* Plain text, shown at once (the badges load with the JSON views). */}
                    {r.constraintRefused && (
                      <span className="muted small" data-testid="json-refused">
                        {' '}
                        {r.constraintRefused}
                      </span>
                    )}
                  </td>
                )}
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
