/**
 * Readying a spare model worker before the Load (the app at page open and after an unload, the
 * harness after its dispose): ONNX Runtime's setup moves out of a returning user's load
 * (worker/ort-setup.ts prepareRuntime). Only for a model stored in this browser: a first visit, or
 * a shared link opened to read its results, does not fetch and compile ONNX Runtime for nothing.
 */
import { isFileStored } from '../../models/cache';
import type { Dtype } from '../../models/dtypes';
import { fileUrl, locate, weightsFile, type ModelSource } from '../../models/sources';
import type { DeviceKind } from './protocol';
import type { LocalEngine } from './LocalEngine';

export interface PrepareTarget {
  source: ModelSource;
  dtype: Dtype;
  device: DeviceKind;
}

/**
 * Asks `engine` to prepare for `target` when its weights file is stored whole; `still()` is asked
 * again once that is known (the page may have moved on). Null when it did not ask; else `done`
 * says whether the worker is ready (a failure is left to the Load to report: the worker tries again then).
 */
export async function prepareIfStored(
  engine: LocalEngine,
  target: PrepareTarget,
  urls: { appBase: string; ortBase: string },
  still: () => boolean = () => true,
): Promise<{ done: Promise<boolean> } | null> {
  const stored = await isFileStored(fileUrl(locate(target.source, urls.appBase), weightsFile(target.dtype)));
  if (!stored || !still()) return null;
  return { done: engine.prepare(target.device, urls.ortBase).then(() => true, () => false) };
}
