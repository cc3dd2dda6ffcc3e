/** The report's JSON-output table: per engine column (free or schema-constrained), validity, schema matches, incomplete answers, field accuracy. */
import type { ResultsTable } from '../../eval/results-table';

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);

export function StructureReport({ table }: { table: ResultsTable }) {
  if (!table.totals.some((t) => t.structure.cases > 0 || t.fieldAccuracy !== null)) return null;
  return (
    <div className="scroll-x" tabIndex={0} role="region" aria-label="JSON output per engine">
      <table className="totals" data-testid="report-structure">
        <caption>JSON output: with the case's schema as the constraint, and without</caption>
        <thead>
          <tr>
            <th>Engine</th>
            <th>Constraint</th>
            <th>Valid JSON</th>
            <th>Matches schema</th>
            <th>Incomplete</th>
            <th>Field accuracy</th>
          </tr>
        </thead>
        <tbody>
          {table.totals.map((t, j) => {
            const col = table.head.engines[j];
            const s = t.structure;
            return (
              <tr key={t.engineId} data-testid="report-structure-row" data-engine={t.engineId} data-valid={s.valid} data-cases={s.cases} data-matches={s.matches}>
                <td>{col?.label}</td>
                <td>{col?.constrained ? (t.refused > 0 ? `refused by the endpoint (${t.refused})` : 'schema') : 'none'}</td>
                <td data-testid="report-valid-rate">{s.cases ? `${pct(s.validRate)} (${s.valid}/${s.cases})` : '—'}</td>
                <td>{s.cases ? `${pct(s.matchRate)} (${s.matches}/${s.cases})` : '—'}</td>
                <td>{s.cases ? s.incomplete : '—'}</td>
                <td data-testid="report-field-accuracy">{pct(t.fieldAccuracy)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
