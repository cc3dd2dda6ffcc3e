/** What the worker reports about the device it runs on (models/device.ts recommends from it). */
export type DeviceKind = 'webgpu' | 'wasm';

export interface WorkerEnvironment {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  webgpu: WebGpuInfo | null;
  /** Why WebGPU is unavailable, when it is. */
  webgpuUnavailableReason: string | null;
  userAgent: string;
}

export interface WebGpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** navigator.deviceMemory in GiB (page or worker), or null where the browser does not say (Firefox, Safari). */
export function deviceMemoryGiB(): number | null {
  if (typeof navigator === 'undefined') return null;
  const m = (navigator as { deviceMemory?: unknown }).deviceMemory;
  return typeof m === 'number' ? m : null;
}
