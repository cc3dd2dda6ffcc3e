/** An embedded model's card: what it was trained on, how accurate it is per task, example prompts. */
import { useEffect, useState } from 'react';
import { accuracyTable, fetchModelCard, type ModelCardData } from '../models/embedded';
import { fmtBytes } from '../metrics/format';
import { fmtParams } from '../models/device';
import { errorText } from '../lib/errors';

interface Props {
  modelId: string;
  appBase: string;
  onExample: (prompt: string) => void;
  /** Fold the card into a one-line summary (phones, once a model is loaded). */
  collapsed?: boolean;
}

export function ModelCardView({ modelId, appBase, onExample, collapsed = false }: Props) {
  const [data, setData] = useState<ModelCardData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setData(null);
    fetchModelCard(modelId, appBase).then(
      (d) => live && setData(d),
      (e: unknown) => live && setError(`Could not read the model card: ${errorText(e)}`),
    );
    return () => {
      live = false;
    };
  }, [modelId, appBase]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Reading the model card…</p>;
  return (
    <section className="panel card" aria-label="Model card" data-testid="model-card">
      <details open={!collapsed}>
      <summary>Model card: what it knows, accuracy{data.examples.length > 0 ? ', prompts to try' : ''}</summary>
      <p className="small">
        This model was trained by this project on synthetic tasks only. It knows those tasks and little else: its mistakes outside them are its limits, not a bug.
      </p>
      {data.card && <CardFacts card={data.card} />}
      {data.examples.length > 0 && (
        <>
          <h2>Try these</h2>
          <ul className="examples" data-testid="examples">
            {data.examples.map((e) => (
              <li key={e.prompt}>
                <button className="link" onClick={() => onExample(e.prompt)}>
                  {e.prompt}
                </button>
                {e.expected && <span className="muted small"> → {e.expected}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {data.tryThis.length > 0 && (
        <>
          <h3>Try this: this model gets these wrong</h3>
          <ul className="examples" data-testid="try-this">
            {data.tryThis.map((e) => (
              <li key={e.prompt}>
                <button className="link" onClick={() => onExample(e.prompt)}>
                  {e.prompt}
                </button>
                {e.expected && <span className="muted small"> → expected {e.expected}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {data.readme && (
        <details>
          <summary>Full model card</summary>
          <pre className="readme" tabIndex={0} aria-label="Full model card">{data.readme}</pre>
        </details>
      )}
      </details>
    </section>
  );
}

function trainTime(seconds: number): string {
  return seconds < 600 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${Math.round(x * 100)}%`;
}

function CardFacts({ card }: { card: NonNullable<ModelCardData['card']> }) {
  const table = accuracyTable(card);
  const files = Object.entries(card.files ?? {});
  return (
    <>
      {card.description && <p className="small">{card.description}</p>}
      <p className="small muted">
        {card.architecture?.params ? fmtParams(card.architecture.params) : ''}
        {card.training?.seconds ? ` · trained ${trainTime(card.training.seconds)} on ${card.training.device_name && card.training.device_name !== 'CPU' ? card.training.device_name : 'CPU'}` : ''}
        {card.training?.examples_seen ? ` · ${card.training.examples_seen.toLocaleString()} examples seen` : ''}
        {files.length ? ` · ${files.map(([f, b]) => `${f.replace('onnx/', '')} ${fmtBytes(b)}`).join(', ')}` : ''}
      </p>
      {table.rows.length > 0 && (
        <table className="metrics accuracy" data-testid="card-accuracy">
          <thead>
            <tr>
              <th>Held-out accuracy</th>
              {table.dtypes.map((d) => (
                <th key={d}>{d}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r) => (
              <tr key={r.family}>
                <td>{r.family}</td>
                {r.acc.map((a, i) => (
                  <td key={table.dtypes[i]} className={a !== null && a >= 0.8 ? 'good' : a !== null && a < 0.3 ? 'bad' : ''}>
                    {pct(a)}
                  </td>
                ))}
              </tr>
            ))}
            <tr>
              <td>
                <strong>overall</strong>
              </td>
              {table.overall.map((a, i) => (
                <td key={table.dtypes[i]}>
                  <strong>{pct(a)}</strong>
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      )}
    </>
  );
}
