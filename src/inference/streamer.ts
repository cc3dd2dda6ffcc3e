/**
 * Turns generated token ids into text deltas, token by token, and batches them for the page.
 *
 * Incremental detokenization: decode a short window of ids and emit only what is new, holding back
 * a delta that ends in U+FFFD (an unfinished multi-byte character). Cost per token is O(window),
 * not O(output) as re-decoding everything would be.
 *
 * Batching: posting a message per token costs ~0.1 ms on the page, as much as a whole decode step
 * of a tiny model. The first token is sent at once (time to first token stays exact); after that
 * text is flushed at most once per `flushIntervalMs` (a display frame), and at the end. Tokens are
 * detokenized when they are sent, not one by one: two tokenizer decodes per token cost a sizeable
 * share of a 0.5 ms decode step, and one decode per frame covers ~30 tokens at those speeds.
 */

export type Decode = (ids: number[]) => string;

export class IncrementalDecoder {
  private ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly decode: Decode) {}

  /** Adds one token; returns the text it completes (possibly empty). */
  push(id: number): string {
    this.ids.push(id);
    return this.emit();
  }

  /** Adds several tokens with one decode of the window; returns the text they complete. */
  pushAll(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    for (const id of ids) this.ids.push(id);
    return this.emit();
  }

  private emit(): string {
    const prefix = this.readOffset > this.prefixOffset ? this.decode(this.ids.slice(this.prefixOffset, this.readOffset)) : '';
    const full = this.decode(this.ids.slice(this.prefixOffset));
    if (full.length > prefix.length && !full.endsWith('\uFFFD')) {
      const delta = full.slice(prefix.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return delta;
    }
    return '';
  }

  get tokenIds(): readonly number[] {
    return this.ids;
  }
}

export interface StreamSink {
  (text: string, tokens: number): void;
}

export class BatchingStream {
  private pendingIds: number[] = [];
  private pendingText = '';
  private pendingTokens = 0;
  private lastFlush = -Infinity;
  private sentAny = false;

  constructor(
    private readonly decoder: IncrementalDecoder,
    private readonly sink: StreamSink,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  add(id: number): void {
    this.pendingIds.push(id);
    this.pendingTokens += 1;
    const t = this.now();
    if (t - this.lastFlush >= this.intervalMs) {
      this.flush(t);
      return;
    }
    // Until the first visible text went out, every token is decoded: it may be the one to send now.
    if (!this.sentAny) {
      this.decodePending();
      if (this.pendingText.length > 0) this.flush(t);
    }
  }

  flush(t = this.now()): void {
    if (this.pendingTokens === 0) return;
    this.decodePending();
    this.sink(this.pendingText, this.pendingTokens);
    if (this.pendingText.length > 0) this.sentAny = true;
    this.pendingText = '';
    this.pendingTokens = 0;
    this.lastFlush = t;
  }

  private decodePending(): void {
    if (this.pendingIds.length === 0) return;
    this.pendingText += this.decoder.pushAll(this.pendingIds);
    this.pendingIds = [];
  }
}
