/**
 * The one list of weight dtypes: transformers.js's names, and the file suffix each is stored
 * under (`onnx/model{suffix}.onnx`). Used by the sources, the catalog, the settings and the
 * reference server alike.
 */

export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];

/** transformers.js's file name suffix per dtype: `onnx/model{suffix}.onnx`. */
export const DTYPE_SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Dtypes whose weights or activations are half precision: WebGPU needs `shader-f16` for them. */
export const F16_DTYPES: readonly Dtype[] = ['fp16', 'q4f16'];

export function isDtype(value: string): value is Dtype {
  return (DTYPES as readonly string[]).includes(value);
}

/** Every dtype except those listed: a catalog entry's offer, written once. */
export function dtypesExcept(...missing: Dtype[]): Dtype[] {
  return DTYPES.filter((d) => !missing.includes(d));
}
