/**
 * Server-side timing of the last N chat requests, served at GET /v1/slm/stats. All times are
 * milliseconds on the server's monotonic clock, measured from the moment the request arrived
 * (its headers were parsed). A benchmark subtracts `firstByteMs` from the client's TTFT to get
 * what the client side (network, SDK, parsing, rendering) adds.
 */

import type { KvCacheStats } from '../src/inference/kv-cache';

export interface RequestTiming {
  /** The completion id (`chatcmpl-…`), also sent as the `x-request-id` response header. */
  id: string;
  model: string;
  stream: boolean;
  /** HTTP status sent (200 even when the client went away mid-stream). */
  status: number;
  /** Wall-clock arrival time, ISO 8601. */
  receivedAt: string;
  /** Arrival → the generator started on it (queue wait + body read + tokenization). */
  queuedMs: number;
  /** Arrival → response headers written. */
  headersMs: number | null;
  /** Arrival → the model produced its first output token. */
  firstTokenMs: number | null;
  /**
   * Arrival → the first byte of answer text was handed to the socket: the first content delta of a
   * stream, or the whole body of a non-streaming response.
   */
  firstByteMs: number | null;
  /** Arrival → response ended. */
  totalMs: number;
  promptTokens: number;
  /** Of the prompt tokens, those taken from the prefix cache. */
  cachedTokens: number;
  completionTokens: number;
  /** (completion tokens − 1) ÷ (last token − first token), on the server clock. */
  decodeTps: number | null;
  finishReason: 'stop' | 'length' | 'abort' | 'error';
}

export interface StatsSnapshot {
  object: 'slm.stats';
  model: string;
  queue: { running: boolean; waiting: number; limit: number };
  /** The prefix cache: entries, bytes, hits, reused and prefilled tokens; `off` says why when it is off. */
  kvCache: (KvCacheStats & { off: null }) | { off: string };
  data: RequestTiming[];
}

export class StatsLog {
  private readonly entries: RequestTiming[] = [];

  constructor(private readonly limit: number) {}

  record(t: RequestTiming): void {
    this.entries.push(t);
    while (this.entries.length > this.limit) this.entries.shift();
  }

  /** Oldest first. */
  list(): RequestTiming[] {
    return [...this.entries];
  }

  get(id: string): RequestTiming | undefined {
    return this.entries.find((e) => e.id === id);
  }
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

export function formatTiming(t: RequestTiming): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}ms`);
  return (
    `${t.id} ${t.status} ${t.stream ? 'stream' : 'json'} finish=${t.finishReason} queued=${ms(t.queuedMs)} ` +
    `first_token=${ms(t.firstTokenMs)} first_byte=${ms(t.firstByteMs)} total=${ms(t.totalMs)} ` +
    `tokens=${t.promptTokens}+${t.completionTokens} cached=${t.cachedTokens} decode=${t.decodeTps === null ? '-' : `${t.decodeTps.toFixed(1)}tok/s`}`
  );
}
