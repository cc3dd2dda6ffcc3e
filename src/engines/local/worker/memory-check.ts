/**
 * The memory check between the preflight (sizes known) and the first byte of weights: estimate
 * what the model × dtype × device needs (src/models/memory.ts), compare it with what this device
 * can give, refuse "too big" with the numbers and a dtype that would fit, and refuse "close"
 * unless the user accepted the warning.
 */
import { DTYPES, type Dtype } from '../../../models/dtypes';
import { deviceMemoryGiB, type DeviceKind } from '../../../models/environment';
import { checkFit, dtypeThatFits, estimateMemory, fitMessage, int8StepMemoryBlocker, type DeviceLimits, type FitVerdict, type MemoryEstimate } from '../../../models/memory';
import type { PlannedFile } from '../protocol';
import { fail } from './errors';

interface GpuLike {
  requestAdapter(): Promise<{ limits: { maxBufferSize: number; maxStorageBufferBindingSize: number } } | null>;
}

async function deviceLimits(device: DeviceKind): Promise<DeviceLimits> {
  const nav = navigator as { gpu?: GpuLike };
  const limits: DeviceLimits = { deviceMemoryGiB: deviceMemoryGiB(), gpuMaxBufferSize: null, gpuMaxStorageBufferBindingSize: null };
  if (device === 'webgpu' && nav.gpu) {
    const adapter = await nav.gpu.requestAdapter().catch(() => null);
    if (adapter) {
      limits.gpuMaxBufferSize = adapter.limits.maxBufferSize;
      limits.gpuMaxStorageBufferBindingSize = adapter.limits.maxStorageBufferBindingSize;
    }
  }
  return limits;
}

export async function checkMemory(opts: {
  modelId: string;
  files: PlannedFile[];
  config: Record<string, unknown>;
  dtype: Dtype;
  device: DeviceKind;
  allowTight: boolean;
  /** The load may decode on the int8 step (q4 is then rewritten to int8: dtypes.ts rewriteLimits). */
  int8Step: boolean;
}): Promise<{ estimate: MemoryEstimate | null; verdict: FitVerdict | null; int8Step: string | null }> {
  const limits = await deviceLimits(opts.device);
  const estimate = estimateMemory({ files: opts.files, config: opts.config, dtype: opts.dtype, device: opts.device, deviceMemoryGiB: limits.deviceMemoryGiB, int8Step: opts.int8Step });
  if (!estimate) return { estimate: null, verdict: null, int8Step: null };
  const fit = checkFit(estimate, limits);
  // The int8 step never turns a load down: past its own bound it is left out instead.
  const int8Step = int8StepMemoryBlocker(estimate);
  if (fit.verdict === 'fits') return { estimate, verdict: 'fits', int8Step };
  const better = dtypeThatFits(estimate, opts.config, limits, DTYPES);
  const message = fitMessage(opts.modelId, estimate, fit, better);
  if (fit.verdict === 'too-big') fail('too-big', message);
  if (!opts.allowTight) fail('memory-tight', message);
  return { estimate, verdict: 'close', int8Step };
}
