import { describe, expect, it } from 'vitest';
import { computeStrip, requestBytes, type PaneResult } from '../../src/compare/strip';
import { DEFAULT_PRICES } from '../../src/compare/pricing';
import type { RunMetrics } from '../../src/metrics/timing';

const metrics = (o: Partial<RunMetrics>): RunMetrics => ({
  engine: 'local',
  model: 'slm-pocket',
  device: 'wasm',
  dtype: 'fp32',
  threads: 1,
  crossOriginIsolated: true,
  ttftMs: 100,
  e2eMs: 500,
  prefillTps: 200,
  decodeTps: 50,
  engineDecodeTps: 55,
  inputTokens: 20,
  outputTokens: 30,
  tokenCountSource: 'tokenizer',
  ...o,
});

describe('computeStrip', () => {
  const results: PaneResult[] = [
    { paneId: 'local', label: 'pocket', metrics: metrics({ ttftMs: 40, decodeTps: 200 }), bytesSent: 0, error: null },
    { paneId: 'hosted', label: 'gpt-4o', metrics: metrics({ engine: 'hosted', model: 'gpt-4o', ttftMs: 400, decodeTps: 50, tokenCountSource: 'usage', inputTokens: 1000, outputTokens: 100 }), bytesSent: 321, error: null },
    { paneId: 'dead', label: 'broken', metrics: null, bytesSent: 0, error: '401' },
  ];
  const rows = computeStrip(results, DEFAULT_PRICES);

  it('names the first to answer and computes ratios against the best', () => {
    expect(rows.map((r) => r.first)).toEqual([true, false, false]);
    expect(rows[0]?.ttftRatio).toBe(1);
    expect(rows[1]?.ttftRatio).toBe(10);
    expect(rows[0]?.decodeRatio).toBe(1);
    expect(rows[1]?.decodeRatio).toBe(0.25);
  });
  it('costs the hosted pane and not the local one; carries bytes and errors', () => {
    expect(rows[0]?.costUsd).toBe(0);
    expect(rows[1]?.costUsd).toBeCloseTo((1000 * 2.5 + 100 * 10) / 1e6);
    expect(rows[1]?.bytesSent).toBe(321);
    expect(rows[2]).toMatchObject({ ttftMs: null, ttftRatio: null, costUsd: null, error: '401' });
  });
  it('a tie has no single first', () => {
    const tie = computeStrip([results[0]!, { ...results[0]!, paneId: 'b' }], DEFAULT_PRICES);
    expect(tie.map((r) => r.first)).toEqual([false, false]);
  });
  it('marks estimated token counts', () => {
    const r = computeStrip([{ ...results[1]!, metrics: metrics({ tokenCountSource: 'estimated' }) }], DEFAULT_PRICES);
    expect(r[0]?.estimated).toBe(true);
  });
});

describe('requestBytes', () => {
  it('counts UTF-8 bytes of the JSON body', () => {
    expect(requestBytes({ a: 'é' })).toBe(JSON.stringify({ a: 'é' }).length + 1);
  });
});
