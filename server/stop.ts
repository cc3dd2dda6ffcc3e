/**
 * Stop strings over streamed text. Text that could be the start of a stop string is held back
 * until it is clear it is not; when a stop string appears, the text before it is released and
 * generation ends (the stop string itself is never sent, as in OpenAI's API).
 */
export interface StopStep {
  /** Text safe to send now. */
  text: string;
  /** A stop string was found; nothing after it may be sent. */
  stopped: boolean;
}

export class StopStringFilter {
  private held = '';
  private done = false;

  constructor(private readonly stops: readonly string[]) {}

  push(delta: string): StopStep {
    if (this.done) return { text: '', stopped: true };
    if (this.stops.length === 0) return { text: delta, stopped: false };
    const buf = this.held + delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i !== -1 && (cut === -1 || i < cut)) cut = i;
    }
    if (cut !== -1) {
      this.done = true;
      this.held = '';
      return { text: buf.slice(0, cut), stopped: true };
    }
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), stopped: false };
  }

  /** End of generation: whatever was held back is plain text after all. */
  flush(): string {
    const rest = this.done ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
