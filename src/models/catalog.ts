/**
 * Well-known browser-ready small language models (ONNX, transformers.js layout) and the embedded
 * models the project trains and ships. Sizes for hub models are estimates from the parameter count
 * (bytes per weight per dtype) and are marked as such; the exact size is read from the host at
 * load time (the worker's preflight) before any large download starts.
 */
import { DTYPES, dtypesExcept, type Dtype } from './dtypes';
import type { ModelSource } from './sources';

export interface CatalogEntry {
  /** Stable key for the UI. */
  key: string;
  label: string;
  source: ModelSource;
  /** Parameter count. */
  params: number;
  /** Dtypes the repository offers as `onnx/model{suffix}.onnx`. */
  dtypes: Dtype[];
  /** Recommended dtype on WebGPU and on WASM. */
  preferred: { webgpu: Dtype; wasm: Dtype };
  contextLength: number;
  license: string;
  notes: string;
  /** Exact file sizes per dtype when known (embedded models); otherwise estimated. */
  exactBytes?: Partial<Record<Dtype, number>>;
  embedded?: boolean;
}

/** Average stored bytes per parameter, embeddings and scales included (rule of thumb). */
export const BYTES_PER_PARAM: Record<Dtype, number> = {
  fp32: 4,
  fp16: 2,
  q8: 1.05,
  int8: 1.05,
  uint8: 1.05,
  q4: 0.75, // 4-bit matmuls, but embeddings usually stay fp32
  q4f16: 0.6,
  bnb4: 0.6,
};

export function estimatedBytes(entry: CatalogEntry, dtype: Dtype): { bytes: number; exact: boolean } {
  const exact = entry.exactBytes?.[dtype];
  if (exact !== undefined) return { bytes: exact, exact: true };
  return { bytes: Math.round(entry.params * BYTES_PER_PARAM[dtype]), exact: false };
}

const hub = (modelId: string): ModelSource => ({ type: 'hub', modelId, revision: 'main' });

export const HUB_CATALOG: CatalogEntry[] = [
  {
    key: 'smollm2-135m',
    label: 'SmolLM2 135M Instruct',
    source: hub('HuggingFaceTB/SmolLM2-135M-Instruct'),
    params: 135e6,
    dtypes: [...DTYPES],
    preferred: { webgpu: 'fp16', wasm: 'q8' },
    contextLength: 8192,
    license: 'Apache-2.0',
    notes: 'Tiny and fast; good for format-following demos, weak at facts and reasoning.',
  },
  {
    key: 'smollm2-360m',
    label: 'SmolLM2 360M Instruct',
    source: hub('HuggingFaceTB/SmolLM2-360M-Instruct'),
    params: 362e6,
    dtypes: [...DTYPES],
    preferred: { webgpu: 'q4f16', wasm: 'q8' },
    contextLength: 8192,
    license: 'Apache-2.0',
    notes: 'A good first real model for the browser.',
  },
  {
    key: 'qwen2.5-0.5b',
    label: 'Qwen2.5 0.5B Instruct',
    source: hub('onnx-community/Qwen2.5-0.5B-Instruct'),
    params: 494e6,
    dtypes: [...DTYPES],
    preferred: { webgpu: 'q4f16', wasm: 'q8' },
    contextLength: 32768,
    license: 'Apache-2.0',
    notes: 'Multilingual, follows instructions well for its size.',
  },
  {
    key: 'qwen3-0.6b',
    label: 'Qwen3 0.6B',
    source: hub('onnx-community/Qwen3-0.6B-ONNX'),
    params: 596e6,
    dtypes: [...DTYPES],
    preferred: { webgpu: 'q4f16', wasm: 'q8' },
    contextLength: 32768,
    license: 'Apache-2.0',
    notes: 'Thinks before answering (a <think> block) unless told not to.',
  },
  {
    key: 'llama-3.2-1b',
    label: 'Llama 3.2 1B Instruct',
    source: hub('onnx-community/Llama-3.2-1B-Instruct'),
    params: 1.24e9,
    dtypes: [...DTYPES],
    preferred: { webgpu: 'q4f16', wasm: 'q4' },
    contextLength: 131072,
    license: 'Llama 3.2 Community License',
    notes: 'Gated upstream; the onnx-community copy is public.',
  },
  {
    key: 'gemma-3-1b',
    label: 'Gemma 3 1B IT',
    source: hub('onnx-community/gemma-3-1b-it-ONNX'),
    params: 1.0e9,
    dtypes: dtypesExcept('bnb4'),
    preferred: { webgpu: 'q4f16', wasm: 'q4' },
    contextLength: 32768,
    license: 'Gemma Terms of Use',
    notes: 'Strong 1B chat model.',
  },
  {
    key: 'qwen2.5-1.5b',
    label: 'Qwen2.5 1.5B Instruct',
    source: hub('onnx-community/Qwen2.5-1.5B-Instruct'),
    params: 1.54e9,
    dtypes: ['fp16', 'q8', 'q4', 'q4f16'],
    preferred: { webgpu: 'q4f16', wasm: 'q4' },
    contextLength: 32768,
    license: 'Apache-2.0',
    notes: 'Noticeably better answers; needs a real GPU to be pleasant.',
  },
  {
    key: 'phi-3.5-mini',
    label: 'Phi-3.5 mini instruct (web)',
    source: hub('microsoft/Phi-3.5-mini-instruct-onnx-web'),
    params: 3.82e9,
    dtypes: ['q4f16'],
    preferred: { webgpu: 'q4f16', wasm: 'q4f16' },
    contextLength: 131072,
    license: 'MIT',
    notes: 'WebGPU with shader-f16 only in practice (~2.2 GB); external-data weights.',
  },
];

/** Everything the model picker offers: embedded models first (filled in from their cards), then the hub. */
export function catalogFor(embedded: CatalogEntry[]): CatalogEntry[] {
  return [...embedded, ...HUB_CATALOG];
}
