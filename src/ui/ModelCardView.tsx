/** An embedded model's card: what it was trained on, how accurate it is per task, example prompts. */
import { useEffect, useState } from 'react';
import { fetchModelCard, type ModelCardData } from '../models/embedded';

interface Props {
  modelId: string;
  appBase: string;
  onExample: (prompt: string) => void;
}

export function ModelCardView({ modelId, appBase, onExample }: Props) {
  const [data, setData] = useState<ModelCardData | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setData(null);
    fetchModelCard(modelId, appBase).then(
      (d) => live && setData(d),
      (e: unknown) => live && setError(`Could not read the model card: ${e instanceof Error ? e.message : String(e)}`),
    );
    return () => {
      live = false;
    };
  }, [modelId, appBase]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Reading the model card…</p>;
  return (
    <section className="panel card" aria-label="Model card" data-testid="model-card">
      <p className="small">
        This model was trained by this project on synthetic tasks only. It knows those tasks and little else: its mistakes outside them are its limits, not a bug.
      </p>
      {data.examples.length > 0 && (
        <>
          <h3>Try these</h3>
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
      {data.readme && (
        <details>
          <summary>Model card</summary>
          <pre className="readme">{data.readme}</pre>
        </details>
      )}
    </section>
  );
}
