/** Small scripted HTTP servers on 127.0.0.1 that misbehave on purpose, for HostedEngine tests. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach } from 'vitest';

export interface CapturedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Resolves when the client closes the connection or the response ends. */
  closed: Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, captured: CapturedRequest) => void | Promise<void>;

export interface FakeServer {
  url: string;
  baseURL: string;
  requests: CapturedRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const requests: CapturedRequest[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const captured: CapturedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
        closed: new Promise((resolve) => res.on('close', () => resolve())),
      };
      requests.push(captured);
      Promise.resolve(handler(req, res, captured)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export function sse(res: ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

let seq = 0;
/** A chat.completion.chunk with one choice. */
export function chunk(content: string | null, finish: string | null = null, extra: Record<string, unknown> = {}) {
  return {
    id: `chatcmpl-fake-${++seq}`,
    object: 'chat.completion.chunk',
    created: 1,
    model: 'fake-model',
    choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
    ...extra,
  };
}

export function usageChunk(prompt: number, completion: number) {
  return { id: 'chatcmpl-fake-usage', object: 'chat.completion.chunk', created: 1, model: 'fake-model', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
}

/** A well-behaved stream: role, the given pieces, finish, optional usage, [DONE]. */
export function streamAnswer(res: ServerResponse, pieces: string[], opts: { finish?: string; usage?: [number, number] | null } = {}): void {
  openSse(res);
  sse(res, { ...chunk(null), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  for (const p of pieces) sse(res, chunk(p));
  sse(res, chunk(null, opts.finish ?? 'stop'));
  if (opts.usage) sse(res, usageChunk(opts.usage[0], opts.usage[1]));
  sse(res, '[DONE]');
  res.end();
}

/** `serve(handler)` for a test file: every fake server it starts is closed after each test. */
export function fakeServersPerTest(): (handler: Handler) => Promise<FakeServer> {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (handler) => {
    const s = await startFakeServer(handler);
    servers.push(s);
    return s;
  };
}
