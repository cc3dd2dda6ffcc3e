/**
 * Which build of the int8 step's kernel (tools/wasm/int8-step.ts) this engine runs, and its instances: plain
 * 128-bit SIMD everywhere, or relaxed SIMD's int8 dot where it multiplies 8-bit activations exactly.
 *
 * Why two builds (measured, docs/performance.md "Relaxed SIMD's int8 dot"): in V8 on an x86-64 CPU with AVX-VNNI,
 * `i32x4.relaxed_dot_i8x16_i7x16_add_s` is one `vpdpbusd` (16 products and the add); the plain build needs two
 * `i32x4.dot_i16x8_s`, two adds and the widening for the same 16. A prompt's GEMM ran 3.0x faster on one thread
 * (Chromium 156, 2026-12-04: 94 against 31 G products a second). The instruction's second operand is specified for
 * 0..127 only, and the step's activations are 0..255 (ONNX's DynamicQuantizeLinear): beyond 127 engines differ
 * (VNNI: exact; V8's pmaddubsw fallback without VNNI: 16-bit saturation; ARM's sdot: read as signed; Node 20 with
 * its flag: wrong sums, a draft-era lowering). So the relaxed build is used only where its own `dotExact` proves every weight × activation
 * pair exact in this engine, once per worker or process; the same engine gives the helper thread the same build.
 */
import { base64ToBytes } from '../lib/base64';
import { INT8_STEP_WASM } from './int8-step.wasm';
import { INT8_STEP_SHARED_WASM } from './int8-step-shared.wasm';
import { INT8_STEP_RELAXED_WASM } from './int8-step-relaxed.wasm';
import { INT8_STEP_RELAXED_SHARED_WASM } from './int8-step-relaxed-shared.wasm';

/** The kernel's build: plain SIMD, or relaxed SIMD's int8 dot. */
export type Int8KernelBuild = 'simd' | 'relaxed';

/** The build a step runs, with why not relaxed SIMD where it is plain. */
export interface Int8KernelChoice {
  build: Int8KernelBuild;
  note: string | null;
}

let verdict: Int8KernelChoice | null = null;
const modules = new Map<string, WebAssembly.Module>();

function module(b64: string): WebAssembly.Module {
  let m = modules.get(b64);
  if (!m) {
    m = new WebAssembly.Module(base64ToBytes(b64));
    modules.set(b64, m);
  }
  return m;
}

/** Whether this engine's relaxed int8 dot is exact on the step's activations (decided once; ~1 ms). */
export function relaxedVerdict(): Int8KernelChoice {
  if (verdict) return verdict;
  const bytes = base64ToBytes(INT8_STEP_RELAXED_WASM);
  if (!WebAssembly.validate(bytes)) return (verdict = { build: 'simd', note: 'this browser has no relaxed SIMD' });
  try {
    const { exports } = new WebAssembly.Instance(module(INT8_STEP_RELAXED_WASM), {});
    const dotExact = exports['dotExact'];
    if (typeof dotExact !== 'function') return (verdict = { build: 'simd', note: 'the relaxed build lacks its check' });
    verdict = dotExact() === 1
      ? { build: 'relaxed', note: null }
      : { build: 'simd', note: "this engine's relaxed int8 dot is not exact on 8-bit activations (it is on x86-64 with AVX-VNNI)" };
  } catch (e) {
    verdict = { build: 'simd', note: `the relaxed build did not start (${e instanceof Error ? e.message : String(e)})` };
  }
  return verdict;
}

/** The build to run: relaxed where asked for (the default) and exact here. */
export function chooseBuild(relaxed: boolean): Int8KernelChoice {
  return relaxed ? relaxedVerdict() : { build: 'simd', note: 'relaxed SIMD turned off for this load' };
}

/** A fresh instance of `build` on a memory of its own (a few kB: compiled synchronously, which workers allow). */
export function instantiateOwn(build: Int8KernelBuild): WebAssembly.Exports {
  return new WebAssembly.Instance(module(build === 'relaxed' ? INT8_STEP_RELAXED_WASM : INT8_STEP_WASM), {}).exports;
}

/** The shared-memory module of `build` (instantiated on the step's memory here and in the helper). */
export function sharedModule(build: Int8KernelBuild): WebAssembly.Module {
  return module(build === 'relaxed' ? INT8_STEP_RELAXED_SHARED_WASM : INT8_STEP_SHARED_WASM);
}
