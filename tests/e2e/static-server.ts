/**
 * A plain static file server, like GitHub Pages: serves dist/ under a sub-path, sends no
 * COOP/COEP/CORP headers, answers missing files with a real 404. Used to prove the built app
 * needs nothing from its host but files.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { isolationHeaders } from '../../vite.config';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json',
};

export interface StaticServer {
  url: string;
  /** Requests served, by path (for asserting what reached the network). */
  hits: string[];
  close(): Promise<void>;
}

/** `isolation`: send the isolation headers (the dev and preview servers' own, which dist/_headers asks hosts to send). */
export async function serveStatic(root: string, prefix: string, port = 0, { isolation = false } = {}): Promise<StaticServer> {
  const dir = resolve(root);
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    hits.push(path);
    if (!path.startsWith(prefix)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size, 'Cache-Control': 'no-cache', ...(isolation ? isolationHeaders : {}) });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: p } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${p}${prefix}`,
    hits,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
