/** The memory benchmark's sample rule (scripts/bench/memory-samples.ts): samples taken across a growth of the shared WASM heap are left out. */
import { describe, expect, it } from 'vitest';
import { acrossGrowth, heapGrowths, sampledPeak, type MemorySample } from '../../scripts/bench/memory-samples';

const MiB = 1024 * 1024;
const T = 1_796_022_039_000; // wall-clock ms of the run below

// The end of a real trace (135M-shape q8 model, `MEM_TRACE=1 npm run bench:memory`, 2026-11-30):
// asked, answered (ms after T), MiB. Session creation ran from +431 to +3168; the page's request at
// +534 was answered only after it, with the heap counted once per SharedArrayBuffer still alive.
const trace: [number, number, number][] = [
  [311, 435, 248],
  [456, 509, 279],
  [534, 3180, 1092],
  [3205, 3263, 330],
  [3287, 5816, 353],
  [5838, 7219, 353],
];
const samples: MemorySample[] = trace.map(([a, b, mb]) => ({ askedAt: T + a, answeredAt: T + b, bytes: mb * MiB }));
// The heap's growths in that load (the worker's record): 19, 23, 28, 33, 40, 147, 176, 211, 253, 304 MiB.
const growthsAt = [770, 849, 2909, 2914, 2917, 2922, 3034, 3058, 3072, 3122].map((t) => T + t);

describe('sampledPeak', () => {
  it('leaves out the sample answered across the heap growths of session creation, and keeps the rest', () => {
    const r = sampledPeak(samples, heapGrowths(growthsAt, []));
    expect(r.rawPeak).toBe(1092 * MiB); // what the benchmark reported before: 4.57 × the 238 MiB file
    expect(r.peak).toBe(353 * MiB);
    expect(r.dropped).toBe(1);
    expect(r.droppedPeak).toBe(1092 * MiB);
  });

  it('without growths every sample counts', () => {
    const r = sampledPeak(samples, []);
    expect(r.peak).toBe(1092 * MiB);
    expect(r.dropped).toBe(0);
  });
});

describe('acrossGrowth', () => {
  it('a window runs from the previous answer to its own answer: a growth between the two samples drops the later one only', () => {
    // +520 is after the second sample's answer (+509) and before the third was asked (+534).
    expect(acrossGrowth(samples, [{ from: T + 520, to: T + 520 }])).toEqual([false, false, true, false, false, false]);
    // A growth at an answer's own moment belongs to that sample.
    expect(acrossGrowth(samples, [{ from: T + 509, to: T + 509 }])).toEqual([false, true, false, false, false, false]);
  });

  it("the first sample's window starts when it was asked; growths before it or after the last answer drop nothing", () => {
    expect(acrossGrowth(samples, [{ from: T + 100, to: T + 100 }, { from: T + 8000, to: T + 8000 }])).toEqual(samples.map(() => false));
    expect(acrossGrowth(samples, [{ from: T + 320, to: T + 320 }])[0]).toBe(true);
  });

  it('a span (an answer the heap grew in) drops every sample whose window meets it', () => {
    expect(acrossGrowth(samples, [{ from: T + 3300, to: T + 6000 }])).toEqual([false, false, false, false, true, true]);
  });
});

describe('heapGrowths', () => {
  it('the load gives moments; an answer gives its span only when the heap after it is larger (or unknown)', () => {
    const answers = [
      { from: 10, to: 20, heapBefore: 100, heapAfter: 100 },
      { from: 30, to: 40, heapBefore: 100, heapAfter: 120 },
      { from: 50, to: 60, heapBefore: 120, heapAfter: null },
    ];
    expect(heapGrowths([5], answers)).toEqual([
      { from: 5, to: 5 },
      { from: 30, to: 40 },
      { from: 50, to: 60 },
    ]);
  });
});
