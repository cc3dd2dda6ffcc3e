/**
 * How often streamed text is rendered while answers stream.
 *
 * Why (measured, scripts/bench/scale.mjs `ui_overhead`, 135M-shape q8, 2 threads, this 2-core VM):
 * rendering every token cost the app 19% of its decode speed, on the worker's own clock too (36.3
 * against 43.2 tok/s beside a bare worker, paired). Per-thread CPU over one 128-token answer: the
 * page's main thread 0.43–0.48 s, its compositor 0.13–0.15 s, the GPU process's compositor 0.12–
 * 0.13 s, about 0.27 of a core in all, while ONNX Runtime's two threads want both cores the whole
 * time (the bare worker: 1.93 cores busy). A token a frame is ~130 style/layout/paint passes per
 * answer, nearly all of them invisible at 40 tokens/s. So when the in-browser engine keeps (almost)
 * every core busy, text is rendered at most every STREAM_PACED_MS; the first text of an answer is
 * rendered at once (what the eye sees as the first token is the measured TTFT), and the final
 * answer at once when it ends. With a core or more to spare, every frame, as before.
 */

/** Render interval (ms) when the in-browser engine leaves no core for the page (measured above). */
export const STREAM_PACED_MS = 100;

/**
 * The least time between two renders of streamed text: 0 (every animation frame) unless the
 * in-browser engine's CPU threads leave the page fewer than 2 cores (its main thread and the
 * compositor's work), then STREAM_PACED_MS. `cpuThreads`: threads the in-browser engine keeps busy
 * while it generates (0 when none streams on the CPU: hosted only, or WebGPU); `cores`:
 * navigator.hardwareConcurrency (0 or unknown counts as 1).
 */
export function streamRenderIntervalMs(cpuThreads: number, cores: number): number {
  if (cpuThreads <= 0) return 0;
  return Math.max(1, cores) - cpuThreads >= 2 ? 0 : STREAM_PACED_MS;
}

/** When to render next: `now` if the last render was at least `intervalMs` ago, else then. */
export function nextRenderAt(lastRenderAt: number, intervalMs: number, now: number): number {
  return intervalMs <= 0 ? now : Math.max(now, lastRenderAt + intervalMs);
}
