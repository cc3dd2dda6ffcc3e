// @vitest-environment node
// Model weights leave the dev/preview server uncompressed, with a length (scripts/vite-model-files.ts).
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { preview } from 'vite';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { MODEL_FILE, modelFileMiddleware } from '../../scripts/vite-model-files';

function fake(url: string) {
  const headers: Record<string, string> = {};
  const req = { url, headers: { 'accept-encoding': 'gzip, br' } } as unknown as http.IncomingMessage;
  const res = { setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v) } as unknown as http.ServerResponse;
  let called = false;
  modelFileMiddleware()(req as never, res, () => (called = true));
  return { req, headers, called };
}

describe('model files on the local servers', () => {
  it('drops Accept-Encoding and names the type for .onnx and .onnx_data only', () => {
    const onnx = fake('/models/slm-pocket/onnx/model.onnx?x=1');
    expect(onnx.called).toBe(true);
    expect(onnx.req.headers['accept-encoding']).toBeUndefined();
    expect(onnx.headers['content-type']).toBe('application/octet-stream');
    expect(MODEL_FILE.test('/m/onnx/model.onnx_data')).toBe(true);
    const js = fake('/assets/index.js');
    expect(js.req.headers['accept-encoding']).toBe('gzip, br');
    expect(js.headers['content-type']).toBeUndefined();
  });

  it('vite preview (with the project config) sends a model with its length and no gzip', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-preview-'));
    fs.mkdirSync(path.join(outDir, 'models/m/onnx'), { recursive: true });
    const weights = Buffer.alloc(64 * 1024, 7); // very compressible: gzip would certainly kick in
    fs.writeFileSync(path.join(outDir, 'models/m/onnx/model.onnx'), weights);
    fs.writeFileSync(path.join(outDir, 'models/m/config.json'), JSON.stringify({ pad: 'x'.repeat(4096) }));
    const server = await preview({ build: { outDir }, preview: { port: 0, strictPort: false }, logLevel: 'silent' });
    try {
      const base = server.resolvedUrls?.local[0] ?? '';
      const res = await fetch(new URL('models/m/onnx/model.onnx', base), { headers: { 'accept-encoding': 'gzip' } });
      expect(Buffer.from(await res.arrayBuffer()).equals(weights)).toBe(true);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(Number(res.headers.get('content-length'))).toBe(weights.length);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      // JSON next to it is still compressed: only model weights are exempt.
      const json = await fetch(new URL('models/m/config.json', base), { headers: { 'accept-encoding': 'gzip' } });
      await json.arrayBuffer();
      expect(json.headers.get('content-encoding')).toBe('gzip');
    } finally {
      await new Promise((r) => server.httpServer.close(r));
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
