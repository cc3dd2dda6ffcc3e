/**
 * The model worker's WASM memory, measured: ONNX Runtime Web's threaded build creates its heap
 * with `new WebAssembly.Memory({ shared: true, … })` in its Emscripten glue and exposes no handle
 * to it, so the worker records every Memory constructed in it (installed before ORT is imported).
 * WASM memory never shrinks, so its size is the high-water mark of everything ORT ever held:
 * the weights, the load-time copy of the file, the KV cache and the arena.
 */
const memories: WeakRef<WebAssembly.Memory>[] = [];
let installed = false;

export function trackWasmMemories(): void {
  if (installed) return;
  installed = true;
  const Original = WebAssembly.Memory;
  WebAssembly.Memory = new Proxy(Original, {
    construct(target, args: [WebAssembly.MemoryDescriptor], newTarget) {
      const m = Reflect.construct(target, args, newTarget) as WebAssembly.Memory;
      memories.push(new WeakRef(m));
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
