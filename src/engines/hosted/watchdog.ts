/**
 * Fires once when nothing has happened for a while: armed at the request, re-armed at every chunk.
 * The first wait (until the first chunk: queueing and prompt processing on the server) may be
 * longer than the wait between chunks.
 */
export class IdleWatchdog {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private fired = false;
  /** The wait (ms) that ran out, once fired. */
  firedAfterMs = 0;

  constructor(private readonly onIdle: () => void) {}

  arm(ms: number): void {
    this.stop();
    if (this.fired || !Number.isFinite(ms) || ms <= 0) return;
    this.timer = setTimeout(() => {
      this.fired = true;
      this.firedAfterMs = ms;
      this.timer = null;
      this.onIdle();
    }, ms);
  }

  get hasFired(): boolean {
    return this.fired;
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
