/**
 * A one-line patch to ONNX Runtime Web, applied when Vite bundles it: where `InferenceSession.run`
 * copies a CPU output out of WASM memory into a new typed array, it first asks an optional hook,
 * `globalThis.__slmOrtOutput(TypedArrayConstructor, elementCount)`, for a buffer to copy into
 * (any falsy answer: the usual `new TypedArray(n)`). The module also sets
 * `globalThis.__slmOrtOutputPatched = true` so the worker can tell that the hook is live.
 *
 * Measured reason (docs/performance.md, "Output buffers"): a decode step of a small model returns
 * the logits plus two KV tensors per layer, all freshly allocated. In Chromium a fresh 36 kB
 * Float32Array, filled once, cost 180–315 µs on this machine against 2–9 µs for refilling a
 * reused one (ArrayBuffer memory comes back from the allocator untouched, so every step pays page
 * faults). For the pocket model that was ~1 ms of a 1.4 ms step. The KV decode loop
 * (src/inference/kv-decoder.ts) hands ONNX Runtime two alternating sets of buffers
 * through the hook instead. Nothing else sets the hook, so transformers.js's own generate() and
 * every other session behave exactly as without the patch.
 *
 * The patched statement is matched by shape, not by minified names; if an ONNX Runtime Web update
 * changes it, the build fails here with this message rather than silently losing the speed.
 */
import MagicString from 'magic-string';
import type { Plugin } from 'vite';

/** `let U=un(P),L=new U(j);new Uint8Array(L.buffer,L.byteOffset,L.byteLength).set(` (minified names vary). */
const OUTPUT_COPY =
  /let ([\w$]+)=([\w$]+)\(([\w$]+)\),([\w$]+)=new \1\(([\w$]+)\);new Uint8Array\(\4\.buffer,\4\.byteOffset,\4\.byteLength\)\.set\(/g;

/**
 * ONNX Runtime Web's minified JavaScript bundles (`ort.webgpu.min.mjs`, the one transformers.js
 * imports here; `ort.wasm.bundle.min.mjs`…), not the Emscripten glue (`ort-wasm-*.mjs`).
 */
export const ORT_BUNDLE = /[\\/]onnxruntime-web[\\/]dist[\\/]ort(\.[a-z]+)*\.min\.mjs$/;

export function patchOrtOutputs(code: string, id: string): { code: string; map: ReturnType<MagicString['generateMap']> } {
  const matches = [...code.matchAll(OUTPUT_COPY)];
  if (matches.length !== 1) {
    throw new Error(
      `slm-ort-output-pool: expected exactly one output-copy statement in ${id}, found ${matches.length}. ` +
        'onnxruntime-web changed; update scripts/vite-ort-output-pool.ts (see docs/performance.md, "Output buffers").',
    );
  }
  const m = matches[0]!;
  const [, ctor, , , data, size] = m;
  const s = new MagicString(code);
  const start = m.index;
  const stmt = `let ${ctor}=${m[2]}(${m[3]}),${data}=new ${ctor}(${size});`;
  s.overwrite(start, start + stmt.length, `let ${ctor}=${m[2]}(${m[3]}),${data}=globalThis.__slmOrtOutput?.(${ctor},${size})||new ${ctor}(${size});`);
  s.prepend('globalThis.__slmOrtOutputPatched=true;');
  return { code: s.toString(), map: s.generateMap({ hires: true, source: id }) };
}

export function ortOutputPool(): Plugin {
  return {
    name: 'slm-ort-output-pool',
    transform(code, id) {
      const file = id.split('?')[0] ?? id;
      // The WebGL-only bundle has no WASM session code to patch.
      if (!ORT_BUNDLE.test(file) || !code.includes('_OrtRun(')) return null;
      return patchOrtOutputs(code, file);
    },
  };
}
