/**
 * Waits for the machine to go quiet before a timed load: until the CPUs (all of them, from Linux's
 * /proc/stat) have been busy for less than QUIET_CORES of a core over the last QUIET_WINDOW_MS,
 * at least SETTLE_MIN_MS and at most `maxMs` (the old fixed pause, browser.mjs SETTLE_MS). Where
 * /proc/stat cannot be read it waits `maxMs`, as before.
 *
 * Measured reason (2026-12-02): the fixed 8 s pause, made for the 0.5B shape's 1.2 GB heap being
 * torn down (browser.mjs SETTLE_MS), ran before every warm load and every other-thread-count sitting
 * of every row, ~2 min of the whole bench, mostly on a machine that had been quiet for seconds.
 */
import fs from 'node:fs';
import os from 'node:os';

export const SETTLE_MIN_MS = 1000;
export const QUIET_WINDOW_MS = 1000;
export const QUIET_CORES = 0.1;
const POLL_MS = 100;

/** All CPUs' busy and total clock ticks so far, or null where /proc/stat cannot be read. */
interface Ticks {
  busy: number;
  total: number;
}

function cpuTicks(): Ticks | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const [idle, iowait] = [f[3], f[4]];
    if (idle === undefined || iowait === undefined || f.some((x) => !Number.isFinite(x))) return null;
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle - iowait, total };
  } catch {
    return null;
  }
}

/** Cores busy between two readings (0 … the machine's core count). */
export function busyCores(a: Ticks, b: Ticks, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * cores : 0;
}

/** Resolves once quiet (or at `maxMs`): `{ ms, quiet }`. */
export async function settleQuiet(maxMs: number): Promise<{ ms: number; quiet: boolean }> {
  const t0 = performance.now();
  const cores = os.availableParallelism();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const readings: { at: number; ticks: Ticks }[] = [];
  for (;;) {
    const ticks = cpuTicks();
    const now = performance.now();
    if (ticks === null) {
      await sleep(Math.max(0, maxMs - (now - t0)));
      return { ms: performance.now() - t0, quiet: false };
    }
    readings.push({ at: now, ticks });
    if (now - t0 >= maxMs) return { ms: now - t0, quiet: false };
    const from = readings.findLast((r) => r.at <= now - QUIET_WINDOW_MS);
    if (now - t0 >= SETTLE_MIN_MS && from && busyCores(from.ticks, ticks, cores) < QUIET_CORES) return { ms: now - t0, quiet: true };
    await sleep(POLL_MS);
  }
}
