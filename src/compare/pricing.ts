/**
 * Estimated cost of a run: tokens × price per million tokens. Prices are user-editable (they change
 * and differ per contract); local engines cost $0 (the electricity is not counted).
 */
import type { RunMetrics } from '../metrics/timing';

export interface Price {
  /** USD per 1M input (prompt) tokens. */
  inputPerM: number;
  /** USD per 1M output (completion) tokens. */
  outputPerM: number;
}

/** Starting values for the price table; edit them in the app to match your contract. */
export const DEFAULT_PRICES: Record<string, Price> = {
  'gpt-4o': { inputPerM: 2.5, outputPerM: 10 },
  'gpt-4o-mini': { inputPerM: 0.15, outputPerM: 0.6 },
  'gpt-4.1': { inputPerM: 2, outputPerM: 8 },
  'gpt-4.1-mini': { inputPerM: 0.4, outputPerM: 1.6 },
  'gpt-4.1-nano': { inputPerM: 0.1, outputPerM: 0.4 },
  'Phi-3.5-mini-instruct': { inputPerM: 0.13, outputPerM: 0.52 },
};

export function priceFor(model: string, table: Record<string, Price>): Price | null {
  if (table[model]) return table[model] ?? null;
  // Deployment names often carry the model name with a suffix or prefix.
  const key = Object.keys(table)
    .filter((k) => model.toLowerCase().includes(k.toLowerCase()))
    .sort((a, b) => b.length - a.length)[0];
  return key ? (table[key] ?? null) : null;
}

/** USD for one run, or null when the price is unknown. Local runs are free. */
export function runCost(m: Pick<RunMetrics, 'engine' | 'model' | 'inputTokens' | 'outputTokens'>, table: Record<string, Price>): number | null {
  if (m.engine === 'local') return 0;
  const p = priceFor(m.model, table);
  if (!p) return null;
  return (m.inputTokens * p.inputPerM + m.outputTokens * p.outputPerM) / 1e6;
}

export function validatePrice(p: Price): string | null {
  if (!Number.isFinite(p.inputPerM) || p.inputPerM < 0) return 'Input price must be a number ≥ 0 (USD per 1M tokens).';
  if (!Number.isFinite(p.outputPerM) || p.outputPerM < 0) return 'Output price must be a number ≥ 0 (USD per 1M tokens).';
  return null;
}

export function fmtUsd(x: number | null): string {
  if (x === null) return 'price unknown';
  if (x === 0) return '$0';
  if (x < 0.0001) return `$${x.toExponential(1)}`;
  return `$${x.toFixed(x < 0.01 ? 5 : 4)}`;
}
