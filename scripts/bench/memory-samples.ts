/**
 * Which of the memory benchmark's samples (memory.mjs) measure bytes held, and their peak.
 *
 * `performance.measureUserAgentSpecificMemory()` counts bytes under every ArrayBuffer object that
 * holds them, so bytes that move to a new object are counted twice while both exist. ONNX Runtime
 * Web's heap is a *shared* WebAssembly.Memory: every growth gives `memory.buffer` a new
 * SharedArrayBuffer of the new length over the same memory (Emscripten takes it at once for its
 * views), and the old objects are not even detached. Measured (docs/performance.md, "Memory on WASM";
 * tests/e2e/measure-memory-shared.test.ts): a worker holding the SharedArrayBuffer of each of 17
 * growths of one 358 MiB memory reads 2,047 MiB; 200 MiB moved between objects reads 400 in samples
 * taken meanwhile; a worker growing a memory 40 → … → 304 MiB while holding 200 MiB read up to 757
 * (8 runs of 12).
 * On the 135M-shape q8 model 3 of 23 loads had one sample at 1,091–1,356 MiB where the heap
 * (304 MiB), the file (238) and the rest (~20) make 562, the excess being the sizes of the heap's
 * last 3 or 4 growths, while the renderer's peak resident memory (VmHWM) rose by the same ~615 MiB
 * in those loads as in the others.
 *
 * Such a sample says nothing about the bytes held, so the peak leaves it out: a sample is dropped
 * when a growth falls after the previous sample's answer and no later than its own (the samples
 * are taken back to back, so each growth drops exactly one). The moment itself is not lost: the
 * heap never shrinks, so the next sample sees it, and session creation, where the heap grows, is
 * covered by the worker's own record (memory_create_over_file).
 */

export interface MemorySample {
  /** Wall-clock ms (`performance.timeOrigin + now()`) when the page asked, and when the answer came. */
  askedAt: number;
  answeredAt: number;
  bytes: number;
}

/** When the worker's WASM heap grew: a moment (from = to), or a span it grew somewhere in (an answer). */
export interface HeapGrowth {
  from: number;
  to: number;
}

/** For each sample: whether a heap growth falls in its window (the previous answer, its own answer]. */
export function acrossGrowth(samples: MemorySample[], growths: HeapGrowth[]): boolean[] {
  return samples.map((s, i) => {
    const start = i === 0 ? s.askedAt : samples[i - 1]!.answeredAt;
    return growths.some((g) => g.to > start && g.from <= s.answeredAt);
  });
}

export interface SampledPeak {
  /** The largest sample that no growth can have inflated (0 when none is left). */
  peak: number;
  /** The largest sample of all (what the benchmark reported before the rule above). */
  rawPeak: number;
  /** Samples left out, and the largest of them. */
  dropped: number;
  droppedPeak: number;
}

export function sampledPeak(samples: MemorySample[], growths: HeapGrowth[]): SampledPeak {
  const across = acrossGrowth(samples, growths);
  let peak = 0;
  let rawPeak = 0;
  let dropped = 0;
  let droppedPeak = 0;
  samples.forEach((s, i) => {
    rawPeak = Math.max(rawPeak, s.bytes);
    if (across[i]) {
      dropped++;
      droppedPeak = Math.max(droppedPeak, s.bytes);
    } else {
      peak = Math.max(peak, s.bytes);
    }
  });
  return { peak, rawPeak, dropped, droppedPeak };
}

/** Growth moments of the load (SessionMemory.heapGrowthsAt) and the spans of the answers after which the heap was larger. */
export function heapGrowths(loadGrowthsAt: number[], answers: { from: number; to: number; heapBefore: number | null; heapAfter: number | null }[]): HeapGrowth[] {
  const out: HeapGrowth[] = loadGrowthsAt.map((t) => ({ from: t, to: t }));
  for (const a of answers) {
    // Unknown heap sizes (not measured) count as a growth: leaving a sample out is the safe side.
    if (a.heapBefore === null || a.heapAfter === null || a.heapAfter > a.heapBefore) out.push({ from: a.from, to: a.to });
  }
  return out;
}
