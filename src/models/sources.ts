/**
 * Where a model's files come from, and how that maps onto transformers.js's settings.
 * Three kinds: models bundled with the app (served under `models/`), any Hugging Face model id,
 * and a self-hosted mirror laid out like the hub (`{host}/{model}/resolve/{revision}/{file}`).
 * Pure functions: used by the UI, the worker and the tests alike.
 */

import { DTYPE_SUFFIX, type Dtype } from './dtypes';

export { DTYPES, DTYPE_SUFFIX, F16_DTYPES, isDtype, type Dtype } from './dtypes';

export type ModelSource =
  | { type: 'bundled'; modelId: string }
  | { type: 'hub'; modelId: string; revision: string }
  | { type: 'mirror'; modelId: string; revision: string; host: string };

export const HUB_HOST = 'https://huggingface.co/';
export const PATH_TEMPLATE = '{model}/resolve/{revision}/';

// Same rule as the hub (and transformers.js): optional "org/" then a name of word chars, '-', '.'.
const MODEL_ID = /^(?:[\w\-.]+\/)?[\w\-.]{1,96}$/;

/** Returns a specific error for an invalid model id, or null when it is valid. */
export function modelIdError(id: string): string | null {
  const s = id.trim();
  if (!s) return 'Enter a model id such as onnx-community/Qwen2.5-0.5B-Instruct.';
  if (/^https?:\/\//i.test(s)) return 'That is a URL; use the "Custom host" source for a mirror, or enter only the id (org/name).';
  if (!MODEL_ID.test(s)) return `"${s}" is not a valid model id: use org/name with letters, digits, '-', '_' or '.'.`;
  if (s.includes('..') || s.includes('--')) return `"${s}" is not a valid model id: '..' and '--' are not allowed.`;
  if (/^[.-]|[.-]$/.test(s.split('/').pop() ?? '')) return `"${s}" is not a valid model id: a name cannot start or end with '.' or '-'.`;
  return null;
}

/** Normalizes a mirror host URL (adds the trailing slash) or explains what is wrong with it. */
export function normalizeHost(input: string): { ok: true; host: string } | { ok: false; error: string } {
  const s = input.trim();
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { ok: false, error: `"${s}" is not a URL. Enter the mirror's base, e.g. https://models.example.com/hf/` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `A model host must use http or https, not ${url.protocol}` };
  }
  if (url.search || url.hash) return { ok: false, error: 'A model host URL cannot carry a query or a #fragment.' };
  if (url.username || url.password) return { ok: false, error: 'Put no credentials in a model host URL.' };
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  return { ok: true, host: `${url.origin}${path}` };
}

/** The settings transformers.js needs to load `modelId` from this source. */
export interface TransformersLocation {
  modelId: string;
  revision: string;
  allowLocalModels: boolean;
  allowRemoteModels: boolean;
  /**
   * Root-relative path of the bundled models folder (e.g. `/sub/models/`). Not an absolute URL:
   * transformers.js 4.3's file-existence check skips local paths that parse as URLs, and would
   * then report a bundled tokenizer as missing.
   */
  localModelPath: string;
  /** The same folder as an absolute URL (for our own requests). */
  localModelUrl: string;
  remoteHost: string;
  remotePathTemplate: string;
}

/** `appBase` is the app's absolute base URL (e.g. `https://example.com/playground/`). */
export function locate(source: ModelSource, appBase: string): TransformersLocation {
  const localModelUrl = new URL('models/', appBase).href;
  const localModelPath = new URL(localModelUrl).pathname;
  switch (source.type) {
    case 'bundled':
      return {
        modelId: source.modelId,
        revision: 'main',
        allowLocalModels: true,
        allowRemoteModels: false,
        localModelPath,
        localModelUrl,
        remoteHost: HUB_HOST,
        remotePathTemplate: PATH_TEMPLATE,
      };
    case 'hub':
      return {
        modelId: source.modelId,
        revision: source.revision || 'main',
        allowLocalModels: false,
        allowRemoteModels: true,
        localModelPath,
        localModelUrl,
        remoteHost: HUB_HOST,
        remotePathTemplate: PATH_TEMPLATE,
      };
    case 'mirror':
      return {
        modelId: source.modelId,
        revision: source.revision || 'main',
        allowLocalModels: false,
        allowRemoteModels: true,
        localModelPath,
        localModelUrl,
        remoteHost: hostOrRaw(source.host),
        remotePathTemplate: PATH_TEMPLATE,
      };
  }
}

function hostOrRaw(host: string): string {
  const h = normalizeHost(host);
  return h.ok ? h.host : host;
}

/** The absolute URL transformers.js will request for one file (joined as its pathJoin does). */
export function fileUrl(loc: TransformersLocation, file: string): string {
  if (loc.allowLocalModels) return new URL(`${loc.modelId}/${file}`, loc.localModelUrl).href;
  const dir = loc.remotePathTemplate
    .replaceAll('{model}', loc.modelId)
    .replaceAll('{revision}', encodeURIComponent(loc.revision));
  return [loc.remoteHost.replace(/\/$/, ''), dir.replace(/^\//, '').replace(/\/$/, ''), file.replace(/^\//, '')].join('/');
}

/** `transformers.js_config` fields that change which files are loaded. */
export interface TransformersJsConfig {
  use_external_data_format?: boolean | number | Partial<Record<string, boolean | number>>;
  /** Per-device overrides, merged over the top level as transformers.js does. */
  device_config?: Partial<Record<string, { use_external_data_format?: TransformersJsConfig['use_external_data_format'] }>>;
}

/** Number of external-data chunks, by transformers.js's own rule (full file name, then base name). */
function externalChunks(cfg: TransformersJsConfig | undefined, dtype: Dtype, device: string | null): number {
  const perDevice = device ? cfg?.device_config?.[device] : undefined;
  const v = perDevice && 'use_external_data_format' in perDevice ? perDevice.use_external_data_format : cfg?.use_external_data_format;
  if (!v) return 0;
  let n: number;
  if (typeof v === 'object') {
    const full = `model${DTYPE_SUFFIX[dtype]}.onnx`;
    const own = (k: string) => Object.prototype.hasOwnProperty.call(v, k);
    n = own(full) ? Number(v[full]) : own('model') ? Number(v['model']) : 0;
  } else n = Number(v);
  // transformers.js loops `for (i = 0; i < n; ++i)`, so 1.5 means two chunks.
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0;
}

export interface ModelFile {
  file: string;
  required: boolean;
  role: 'config' | 'tokenizer' | 'weights';
}

/** The model's graph file for `dtype` (its weights, or the first part of them with external data). */
export function weightsFile(dtype: Dtype): string {
  return `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** The files a causal LM load reads, in the order transformers.js reads them. */

export function modelFiles(dtype: Dtype, cfg?: TransformersJsConfig, device: string | null = null): ModelFile[] {
  const onnx = weightsFile(dtype);
  const files: ModelFile[] = [
    { file: 'config.json', required: true, role: 'config' },
    { file: 'tokenizer.json', required: true, role: 'tokenizer' },
    { file: 'tokenizer_config.json', required: true, role: 'tokenizer' },
    { file: 'generation_config.json', required: false, role: 'config' },
    { file: onnx, required: true, role: 'weights' },
  ];
  const chunks = externalChunks(cfg, dtype, device);
  for (let i = 0; i < chunks; i++) {
    files.push({ file: i === 0 ? `${onnx}_data` : `${onnx}_data_${i}`, required: true, role: 'weights' });
  }
  return files;
}

/** A stable, human-readable key for a source (used for cache grouping and saved settings). */
export function sourceLabel(source: ModelSource): string {
  switch (source.type) {
    case 'bundled':
      return `bundled:${source.modelId}`;
    case 'hub':
      return `hf:${source.modelId}@${source.revision || 'main'}`;
    case 'mirror':
      return `${source.host}${source.modelId}@${source.revision || 'main'}`;
  }
}

/** Validates a source as a whole; returns the first problem in words, or null. */
export function sourceError(source: ModelSource): string | null {
  const idErr = modelIdError(source.modelId);
  if (idErr) return idErr;
  if (source.type === 'mirror') {
    const h = normalizeHost(source.host);
    if (!h.ok) return h.error;
  }
  if (source.type !== 'bundled' && source.revision && (!/^[\w\-./]{1,128}$/.test(source.revision) || source.revision.includes('..'))) {
    return `"${source.revision}" is not a valid revision (a branch, tag or commit).`;
  }
  return null;
}
