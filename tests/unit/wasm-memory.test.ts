/** The worker's WASM memory tracker (src/engines/local/worker/wasm-memory.ts): sizes and growth times. */
import { describe, expect, it } from 'vitest';
import { heapGrowthsSince, trackWasmMemories, wasmHeapBytes } from '../../src/engines/local/worker/wasm-memory';

const PAGE = 65536;
const wall = () => performance.timeOrigin + performance.now();

describe('trackWasmMemories', () => {
  it('records each growth of a memory made after it is installed, as wall-clock ms, and its size', () => {
    trackWasmMemories();
    const before = wall();
    const m = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    expect(wasmHeapBytes()).toBe(PAGE);
    m.grow(2);
    m.grow(0); // no growth: not recorded
    m.grow(1);
    const after = wall();
    const at = heapGrowthsSince(before);
    expect(at).toHaveLength(2);
    expect(at.every((t) => t >= before && t <= after)).toBe(true);
    expect(at[0]!).toBeLessThanOrEqual(at[1]!);
    expect(wasmHeapBytes()).toBe(4 * PAGE);
    expect(heapGrowthsSince(after + 1)).toEqual([]);
  });
});
