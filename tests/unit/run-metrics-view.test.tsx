/** The run metrics as shown: rounded text for people, the exact times in data-ms for scripts (the benchmark). */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../src/metrics/timing';
import { RunMetricsView } from '../../src/ui/RunMetricsView';

const m: RunMetrics = {
  engine: 'hosted',
  model: 'm',
  device: '127.0.0.1:8080',
  dtype: null,
  threads: null,
  crossOriginIsolated: null,
  ttftMs: 12.3456,
  e2eMs: 345.678,
  prefillTps: null,
  decodeTps: null,
  engineDecodeTps: null,
  inputTokens: 10,
  reusedInputTokens: null,
  outputTokens: 5,
  tokenCountSource: 'usage',
};

describe('RunMetricsView', () => {
  it('shows TTFT and end-to-end rounded, with their exact values in data-ms', () => {
    const html = renderToStaticMarkup(<RunMetricsView m={m} />);
    expect(html).toContain('<dd data-metric="TTFT" data-ms="12.3456">12 ms</dd>');
    expect(html).toContain('<dd data-metric="End to end" data-ms="345.678">346 ms</dd>');
    expect(html).toMatch(/<dd data-metric="Decode">—<\/dd>/);
  });

  it('leaves data-ms out when there is no time (no first token)', () => {
    const html = renderToStaticMarkup(<RunMetricsView m={{ ...m, ttftMs: null }} />);
    expect(html).toContain('<dd data-metric="TTFT">—</dd>');
  });
});
