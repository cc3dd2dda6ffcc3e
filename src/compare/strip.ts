/**
 * The comparison strip: a pure summary of one turn across panes — who answered first, TTFT and
 * decode-speed ratios against the fastest, tokens, estimated cost, and how many bytes of the
 * prompt left the device.
 */
import type { FinishReason } from '../engines/types';
import type { ResponseFormat } from '../inference/response-format';
import type { RunMetrics } from '../metrics/timing';
import { runCost, type Price } from './pricing';

export interface PaneResult {
  paneId: string;
  label: string;
  metrics: RunMetrics | null;
  /** Bytes of the request body sent over the network (0 for an in-browser engine). */
  bytesSent: number;
  error: string | null;
  /** The answer was asked for as JSON: the format and what came back (the strip shows its validity). */
  json?: { format: ResponseFormat; output: string; finishReason: FinishReason } | null;
  /** The endpoint refused the output constraint and answered as plain text: its message. */
  constraintRefused?: string | null;
}

/** One finished send: the prompt and every pane's answer with its numbers (what a share snapshot holds). */
export interface Exchange {
  prompt: string;
  answers: (PaneResult & { output: string; finishReason: FinishReason })[];
}

export interface StripRow {
  paneId: string;
  label: string;
  first: boolean;
  ttftMs: number | null;
  /** This pane's TTFT ÷ the fastest TTFT (1 for the fastest). */
  ttftRatio: number | null;
  decodeTps: number | null;
  /** This pane's decode speed ÷ the fastest decode speed (1 for the fastest). */
  decodeRatio: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  estimated: boolean;
  costUsd: number | null;
  bytesSent: number;
  error: string | null;
  json: { format: ResponseFormat; output: string; finishReason: FinishReason } | null;
  constraintRefused: string | null;
}

export function computeStrip(results: PaneResult[], prices: Record<string, Price>): StripRow[] {
  const ttfts = results.map((r) => r.metrics?.ttftMs).filter((x): x is number => typeof x === 'number' && x >= 0);
  const decodes = results.map((r) => r.metrics?.decodeTps).filter((x): x is number => typeof x === 'number' && x > 0);
  const bestTtft = ttfts.length ? Math.min(...ttfts) : null;
  const bestDecode = decodes.length ? Math.max(...decodes) : null;
  return results.map((r) => {
    const m = r.metrics;
    const ttft = m?.ttftMs ?? null;
    const dec = m?.decodeTps ?? null;
    return {
      paneId: r.paneId,
      label: r.label,
      first: ttft !== null && bestTtft !== null && ttft === bestTtft && ttfts.filter((t) => t === bestTtft).length === 1,
      ttftMs: ttft,
      ttftRatio: ttft !== null && bestTtft ? ttft / bestTtft : null,
      decodeTps: dec,
      decodeRatio: dec !== null && bestDecode ? dec / bestDecode : null,
      inputTokens: m?.inputTokens ?? null,
      outputTokens: m?.outputTokens ?? null,
      estimated: m?.tokenCountSource === 'estimated',
      costUsd: m ? runCost(m, prices) : null,
      bytesSent: r.bytesSent,
      error: r.error,
      json: r.json ?? null,
      constraintRefused: r.constraintRefused ?? null,
    };
  });
}

/** Bytes of the chat request body as it goes over the wire (UTF-8 JSON). */
export function requestBytes(body: unknown): number {
  return new TextEncoder().encode(JSON.stringify(body)).length;
}
