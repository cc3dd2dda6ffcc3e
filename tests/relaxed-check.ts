/**
 * Whether the int8 step's relaxed-SIMD build (src/inference/int8-kernel.ts) gives the plain build's sums, judged
 * without its own check: both builds' `gemvS16` on the same int8 weights (every value -128..127) and activations
 * (bytes 0..255, then only 0..127, which the relaxed-SIMD spec makes exact everywhere). Self-contained (no imports,
 * base64 decoded with atob): it runs in Chromium through page.evaluate and in a Node started with
 * --experimental-wasm-relaxed-simd, and the tests hold `dotExact` to it.
 */
export function relaxedAgreement(b64: { relaxed: string; plain: string }): { dotExact: number; equal: boolean; equalLow: boolean } {
  const N = 64, K = 512, W = 65536, X = W + N * K, OUT = X + 2 * K;
  const start = (s: string) => {
    const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as Record<string, unknown> & { memory: WebAssembly.Memory };
    e.memory.grow(Math.ceil((OUT + 4 * N) / 65536));
    return e;
  };
  const relaxed = start(b64.relaxed), plain = start(b64.plain);
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  const w = Int8Array.from({ length: N * K }, (_, i) => (i < 256 ? i - 128 : (next() & 255) - 128));
  // Extremes first (255 against -128 in every lane pair), then random bytes.
  const full = Uint8Array.from({ length: K }, (_, i) => (i < 64 ? 255 : next() & 255));
  const sums = (a: Uint8Array) => {
    const out: Int32Array[] = [];
    for (const [e, wide] of [[relaxed, false], [plain, true]] as const) {
      new Int8Array(e.memory.buffer, W, N * K).set(w);
      if (wide) new Int16Array(e.memory.buffer, X, K).set(a);
      else new Uint8Array(e.memory.buffer, X, K).set(a);
      (e['gemvS16'] as (w: number, x: number, out: number, n: number, k: number) => void)(W, X, OUT, N, K);
      out.push(new Int32Array(e.memory.buffer, OUT, N).slice());
    }
    return out[0]!.every((v, i) => v === out[1]![i]);
  };
  for (let i = 0; i < 64; i++) w[i * K] = -128;
  return { dotExact: (relaxed['dotExact'] as () => number)(), equal: sums(full), equalLow: sums(full.map((v) => v & 127)) };
}
