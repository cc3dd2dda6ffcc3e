/**
 * A lost WebGPU device (driver reset, out of GPU memory, the browser reclaiming it, or
 * `device.destroy()`) leaves ONNX Runtime's session unusable: every later run fails. The worker
 * watches the device ONNX Runtime created (`env.webgpu.device`, a resolved promise once the first
 * session exists) and tells the page at once, which ends the worker and offers WASM.
 */
import { errorText } from '../../../lib/errors';
import type { EngineError } from '../protocol';
import type { Transformers } from './ort-setup';

interface DeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

function isDevice(d: unknown): d is DeviceLike {
  return typeof d === 'object' && d !== null && 'lost' in d && 'destroy' in d;
}

/** The GPUDevice ONNX Runtime runs on, or null when it has none (WASM, or no session yet). */
export async function ortDevice(t: Transformers): Promise<DeviceLike | null> {
  const webgpu = t.env.backends.onnx.webgpu;
  if (!webgpu) return null;
  try {
    const d: unknown = await webgpu.device;
    return isDevice(d) ? d : null;
  } catch {
    return null;
  }
}

export function deviceLostError(info: { reason?: string; message?: string }): EngineError {
  const why = info.reason === 'destroyed' ? 'the device was destroyed' : info.message || info.reason || 'no reason given';
  return {
    code: 'device-lost',
    message: `The WebGPU device was lost (${why}), so the model cannot run on it any more. The conversation is kept: load the same model on WASM, or load it again on WebGPU.`,
    detail: info.message,
  };
}

export function watchDeviceLoss(t: Transformers, onLost: (e: EngineError) => void): void {
  void ortDevice(t).then((d) =>
    d?.lost.then(
      (info) => onLost(deviceLostError(info)),
      (e: unknown) => onLost(deviceLostError({ message: errorText(e) })),
    ),
  );
}
