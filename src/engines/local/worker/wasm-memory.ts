/**
 * The model worker's WASM memory, measured: ONNX Runtime Web's threaded build creates its heap
 * with `new WebAssembly.Memory({ shared: true, … })` in its Emscripten glue and exposes no handle
 * to it, so the worker records every Memory constructed in it (installed before ORT is imported).
 * WASM memory never shrinks, so its size is the high-water mark of everything ORT ever held:
 * the weights, the load-time copy of the file, the KV cache and the arena.
 *
 * It also records when the heap grew (Emscripten grows it from JavaScript, `memory.grow()`, then
 * takes `memory.buffer` again): a shared memory hands out a new SharedArrayBuffer per growth, and
 * `performance.measureUserAgentSpecificMemory()` counts bytes under every object that holds them,
 * so a sample taken across a growth counts the heap more than once (docs/performance.md, "Memory on WASM"). The benchmark
 * leaves out the samples taken across a growth (scripts/bench/memory-samples.ts). Only growths made
 * in this worker are seen: with threads > 1 ONNX Runtime's own thread workers may grow it too (the
 * benchmark's memory runs use 1 thread; the size above is right either way).
 */
const memories: WeakRef<WebAssembly.Memory>[] = [];
/** Wall-clock ms (`performance.timeOrigin + now()`, comparable with the page's) of each growth, oldest first. */
const growths: number[] = [];
/** Growths kept: a worker's heap grows ~10–20 times per load (20 % steps); this bounds a very long life. */
const MAX_GROWTHS = 1000;
let installed = false;

export function trackWasmMemories(): void {
  if (installed) return;
  installed = true;
  const Original = WebAssembly.Memory;
  WebAssembly.Memory = new Proxy(Original, {
    construct(target, args: [WebAssembly.MemoryDescriptor], newTarget) {
      const m = Reflect.construct(target, args, newTarget) as WebAssembly.Memory;
      memories.push(new WeakRef(m));
      const grow = m.grow.bind(m);
      m.grow = (delta: number) => {
        const r = grow(delta);
        if (delta > 0) {
          growths.push(performance.timeOrigin + performance.now());
          if (growths.length > MAX_GROWTHS) growths.shift();
        }
        return r;
      };
      return m;
    },
  });
}

/** Bytes of every live WASM memory of this worker; null when none was seen (tracking not installed, or no heap yet). */
export function wasmHeapBytes(): number | null {
  let sum = 0;
  let seen = false;
  for (const ref of memories) {
    const m = ref.deref();
    if (!m) continue;
    seen = true;
    sum += m.buffer.byteLength;
  }
  return seen && sum > 0 ? sum : null;
}

/** When the heap grew at or after `since` (wall-clock ms, as recorded above). */
export function heapGrowthsSince(since: number): number[] {
  return growths.filter((t) => t >= since);
}
