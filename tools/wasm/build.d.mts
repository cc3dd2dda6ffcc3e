// Types of tools/wasm/build.mjs (a plain .mjs build script) for the tests that compile the kernels.
export const TARGETS: { source: string; constant: string; module: string; shared?: boolean; relaxed?: boolean }[];
export function targetOptions(t?: { shared?: boolean; relaxed?: boolean }): { features: string; extra: string[] };
export const SHARED: string[];
export function compile(name?: string, features?: string, extra?: string[]): Promise<Uint8Array>;
export function moduleText(wasm: Uint8Array, source?: string, shared?: boolean, relaxed?: boolean): string;
