/**
 * The bench's wait for a quiet machine before a timed load (scripts/bench/settle.ts): it reads the
 * CPUs' busy time, ends early only when they are quiet, and never waits past its bound.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { busyCores, settleQuiet, SETTLE_MIN_MS } from '../../scripts/bench/settle.ts';

describe('settleQuiet', () => {
  it('counts busy cores from two readings of the clock ticks', () => {
    // 2 cores, 200 ticks between the readings, 100 of them busy: one core's worth.
    expect(busyCores({ busy: 1000, total: 5000 }, { busy: 1100, total: 5200 }, 2)).toBeCloseTo(1);
    expect(busyCores({ busy: 1000, total: 5000 }, { busy: 1002, total: 5200 }, 2)).toBeCloseTo(0.02);
    expect(busyCores({ busy: 1000, total: 5000 }, { busy: 1000, total: 5000 }, 2)).toBe(0);
  });

  it('waits at least its floor and at most its bound', async () => {
    const r = await settleQuiet(2500);
    expect(r.ms).toBeGreaterThanOrEqual(SETTLE_MIN_MS);
    expect(r.ms).toBeLessThan(2500 + 500);
  });

  it('does not call a machine with a core spinning quiet: it waits out its bound', async () => {
    // A child process spinning one core for longer than the bound.
    const burner = spawn(process.execPath, ['-e', 'const e = Date.now() + 4000; while (Date.now() < e);'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const r = await settleQuiet(2000);
      expect(r.quiet).toBe(false);
      expect(r.ms).toBeGreaterThanOrEqual(2000);
    } finally {
      burner.kill();
    }
  });
});
