/**
 * Device capabilities and the device/dtype recommendation. The recommendation follows
 * measurements, not assumptions (docs/performance.md): for models of a few million parameters
 * WASM beats WebGPU (dispatch overhead dominates) and q8 is no faster than fp32 on WASM, while
 * for hundreds of millions of parameters a real GPU with 4-bit weights wins.
 */
import type { DeviceKind, WorkerEnvironment } from './environment';
import { F16_DTYPES, type Dtype } from './sources';
import { Q4_FP32_MAX_BYTES } from './dtypes';
import type { CatalogEntry } from './catalog';

export type DevicePreference = 'auto' | DeviceKind;

export interface DeviceChoice {
  device: DeviceKind;
  reason: string;
}

/** A software adapter (SwiftShader and the like) is correct but far slower than WASM. */
export function isSoftwareAdapter(env: WorkerEnvironment): boolean {
  const g = env.webgpu;
  if (!g) return false;
  const s = `${g.vendor} ${g.architecture} ${g.device} ${g.description}`.toLowerCase();
  return g.isFallbackAdapter || s.includes('swiftshader') || s.includes('llvmpipe') || s.includes('software');
}

/** Can this WebGPU adapter run `dtype`? Returns the reason when it cannot. */
export function webgpuFits(env: WorkerEnvironment, dtype: Dtype): string | null {
  if (!env.webgpu) return env.webgpuUnavailableReason ?? 'No WebGPU adapter.';
  if (F16_DTYPES.includes(dtype) && !env.webgpu.features.includes('shader-f16')) {
    return `The GPU adapter lacks the shader-f16 feature that ${dtype} needs.`;
  }
  return null;
}

/** Resolves the user's device preference for a dtype: WebGPU when an adapter exists and fits, else WASM. */
export function chooseDevice(pref: DevicePreference, dtype: Dtype, env: WorkerEnvironment): DeviceChoice {
  const misfit = webgpuFits(env, dtype);
  if (pref === 'wasm') return { device: 'wasm', reason: 'WASM chosen in settings.' };
  if (pref === 'webgpu') {
    if (misfit) return { device: 'wasm', reason: `WebGPU requested, but: ${misfit} Falling back to WASM.` };
    return { device: 'webgpu', reason: 'WebGPU chosen in settings.' };
  }
  if (misfit) return { device: 'wasm', reason: `${misfit} Using WASM.` };
  if (isSoftwareAdapter(env)) return { device: 'wasm', reason: 'The only WebGPU adapter is a software (CPU) fallback, slower than WASM. Using WASM.' };
  return { device: 'webgpu', reason: `WebGPU adapter ${env.webgpu?.vendor || ''} ${env.webgpu?.architecture || ''} fits ${dtype}.`.replace(/\s+/g, ' ') };
}

export interface Recommendation {
  device: DeviceKind;
  dtype: Dtype;
  reason: string;
}

/** Models below this size run faster on WASM than through WebGPU's per-kernel dispatch. */
export const TINY_MODEL_PARAMS = 20e6;

export function recommend(entry: CatalogEntry, env: WorkerEnvironment): Recommendation {
  const has = (d: Dtype) => entry.dtypes.includes(d);
  if (entry.params < TINY_MODEL_PARAMS) {
    const dtype: Dtype = has('fp32') ? 'fp32' : (entry.dtypes[0] ?? 'fp32');
    return {
      device: 'wasm',
      dtype,
      reason: `${entry.label} is tiny (${fmtParams(entry.params)}): WASM ${dtype} is fastest; measured here, q8 was no faster than fp32 on WASM and WebGPU dispatch costs more than the math.`,
    };
  }
  const gpuOk = env.webgpu && !isSoftwareAdapter(env);
  if (gpuOk) {
    const f16 = env.webgpu?.features.includes('shader-f16') ?? false;
    const order: Dtype[] = f16 ? ['q4f16', 'fp16', 'q4', 'q8', 'fp32'] : ['q4', 'fp32', 'q8'];
    const dtype = order.find(has);
    if (dtype) {
      return {
        device: 'webgpu',
        dtype,
        reason: f16 ? `A hardware GPU with shader-f16: ${dtype} keeps memory low and runs fast.` : `A hardware GPU without shader-f16: ${dtype} (fp32 compute).`,
      };
    }
  }
  // q4 first where its weights can run as fp32 on WASM (Q4_FP32_MAX_BYTES): the smallest download,
  // and measured (docs/scale-models.md) at fp32's browser speed, above q8's. Above that bound q4 runs
  // as int8 MatMulIntegers (q8's kernels, Q4_INT8_MAX_BYTES) after a requantization at load (5 s at
  // 0.5B here), so q8 comes first up to 1B parameters: the same kernels, no load-time work, 8-bit
  // weights, and about the same download (the fp32 embeddings dominate both files at that size).
  const q4Fast = entry.params * 4 <= Q4_FP32_MAX_BYTES;
  const cpuOrder: Dtype[] = q4Fast ? ['q4', 'q8', 'fp32', 'fp16', 'q4f16'] : entry.params > 1e9 ? ['q4', 'q8', 'q4f16', 'fp16'] : ['q8', 'q4', 'fp32', 'fp16', 'q4f16'];
  const dtype = cpuOrder.find(has) ?? entry.dtypes[0] ?? 'fp32';
  const why = !env.webgpu
    ? 'no usable WebGPU adapter'
    : isSoftwareAdapter(env)
      ? 'the only WebGPU adapter is a software fallback'
      : `the GPU cannot run any of this model's dtypes (${entry.dtypes.join(', ')})${env.webgpu.features.includes('shader-f16') ? '' : ': it lacks shader-f16'}`;
  return {
    device: 'wasm',
    dtype,
    reason: `WASM because ${why}; ${dtype === 'q4' && q4Fast ? 'q4 for the smallest download (its 4-bit weights run as fp32 in the browser, faster than q8)' : `${dtype} for its smaller download and memory`}${env.crossOriginIsolated ? '' : ' (single-threaded: the page is not cross-origin isolated)'}.`,
  };
}

export function fmtParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 10e9 ? 0 : 1)}B params`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 10e6 ? 0 : 1)}M params`;
  return `${Math.round(n / 1e3)}K params`;
}
