import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, fmtUsd, priceFor, runCost, validatePrice } from '../../src/compare/pricing';

describe('pricing', () => {
  it('finds an exact model price', () => {
    expect(priceFor('gpt-4o', DEFAULT_PRICES)).toEqual({ inputPerM: 2.5, outputPerM: 10 });
  });
  it('matches a deployment name containing the model, preferring the longest key', () => {
    expect(priceFor('my-gpt-4o-mini-deployment', DEFAULT_PRICES)).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(priceFor('unknown-model', DEFAULT_PRICES)).toBeNull();
  });
  it('costs tokens × price per million; local runs are free; unknown price is null', () => {
    expect(runCost({ engine: 'hosted', model: 'gpt-4o', inputTokens: 1_000_000, outputTokens: 500_000 }, DEFAULT_PRICES)).toBeCloseTo(2.5 + 5);
    expect(runCost({ engine: 'hosted', model: 'gpt-4o', inputTokens: 100, outputTokens: 50 }, DEFAULT_PRICES)).toBeCloseTo((100 * 2.5 + 50 * 10) / 1e6);
    expect(runCost({ engine: 'local', model: 'gpt-4o', inputTokens: 100, outputTokens: 50 }, DEFAULT_PRICES)).toBe(0);
    expect(runCost({ engine: 'hosted', model: 'mystery', inputTokens: 100, outputTokens: 50 }, DEFAULT_PRICES)).toBeNull();
  });
  it('validates prices', () => {
    expect(validatePrice({ inputPerM: 1, outputPerM: 2 })).toBeNull();
    expect(validatePrice({ inputPerM: -1, outputPerM: 2 })).toMatch(/Input/);
    expect(validatePrice({ inputPerM: 1, outputPerM: Number.NaN })).toMatch(/Output/);
  });
  it('formats dollars', () => {
    expect(fmtUsd(null)).toBe('price unknown');
    expect(fmtUsd(0)).toBe('$0');
    expect(fmtUsd(0.00125)).toBe('$0.00125');
    expect(fmtUsd(1.5)).toBe('$1.5000');
  });
});
