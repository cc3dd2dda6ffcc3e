/** What the worker's own global scope offers: isolation, cores and the WebGPU adapter. */
import type { WebGpuInfo, WorkerEnvironment } from '../protocol';
import { errorText } from '../../../lib/errors';

export async function probeEnvironment(): Promise<WorkerEnvironment> {
  const base = {
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency || 1,
    userAgent: navigator.userAgent,
  };
  const gpu = (navigator as WorkerNavigator & { gpu?: GPULike }).gpu;
  if (!gpu) return { ...base, webgpu: null, webgpuUnavailableReason: 'This browser exposes no WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ...base, webgpu: null, webgpuUnavailableReason: 'WebGPU is present but no GPU adapter was granted.' };
    return { ...base, webgpu: describeAdapter(adapter), webgpuUnavailableReason: null };
  } catch (e) {
    return { ...base, webgpu: null, webgpuUnavailableReason: `Requesting a WebGPU adapter failed: ${errorText(e)}` };
  }
}

/** The few WebGPU types we read; declared here so the worker needs no @webgpu/types. */
interface GPULike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  features: Iterable<string>;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

function describeAdapter(a: AdapterLike): WebGpuInfo {
  const info = a.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
    features: [...a.features].sort(),
    maxBufferSize: a.limits.maxBufferSize,
    maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
  };
}
