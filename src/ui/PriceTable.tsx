/** Editable prices (USD per 1M tokens) used for cost estimates; local runs cost $0. */
import { useState } from 'react';
import { validatePrice, type Price } from '../compare/pricing';

interface Props {
  prices: Record<string, Price>;
  onChange: (p: Record<string, Price>) => void;
}

export function PriceTable({ prices, onChange }: Props) {
  const [model, setModel] = useState('');
  const [error, setError] = useState<string | null>(null);
  const set = (name: string, p: Price) => {
    const problem = validatePrice(p);
    setError(problem);
    if (!problem) onChange({ ...prices, [name]: p });
  };
  return (
    <section className="panel" aria-label="Prices" data-testid="price-table">
      <p className="small muted">Prices in USD per 1M tokens, matched by model or deployment name. Edit them to your contract.</p>
      <table className="metrics">
        <thead>
          <tr>
            <th>Model</th>
            <th>Input</th>
            <th>Output</th>
            <td />
          </tr>
        </thead>
        <tbody>
          {Object.entries(prices).map(([name, p]) => (
            <tr key={name}>
              <td className="small">{name}</td>
              <td>
                <input type="number" min={0} step={0.01} value={p.inputPerM} onChange={(e) => set(name, { ...p, inputPerM: Number(e.target.value) })} aria-label={`${name} input price`} />
              </td>
              <td>
                <input type="number" min={0} step={0.01} value={p.outputPerM} onChange={(e) => set(name, { ...p, outputPerM: Number(e.target.value) })} aria-label={`${name} output price`} />
              </td>
              <td>
                <button
                  className="link"
                  aria-label={`Remove the price of ${name}`}
                  onClick={() => {
                    const { [name]: _gone, ...rest } = prices;
                    onChange(rest);
                  }}
                >
                  remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="model or deployment name" aria-label="New price model" />
        <button
          onClick={() => {
            if (!model.trim()) return setError('Enter a model name.');
            set(model.trim(), { inputPerM: 0, outputPerM: 0 });
            setModel('');
          }}
        >
          Add
        </button>
      </div>
      {error && <p className="error">{error}</p>}
    </section>
  );
}
