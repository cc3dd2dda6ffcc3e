/** Shared helpers for the reference-server tests: start a server on a free port, raw HTTP, polling. */
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_ORIGIN_POLICY } from '../../server/cors';
import { loadModel, startServer, type RunningServer, type StartOptions } from '../../server/start';
import type { ChatModel } from '../../server/model';
import type { StatsSnapshot } from '../../server/stats';

export const MODELS_DIR = path.resolve('public/models');
/** The small model: fast enough for many requests per test. */
export const TEST_MODEL = 'slm-pocket';

export function loadTestModel(): Promise<ChatModel> {
  return loadModel({ modelsDir: MODELS_DIR, model: TEST_MODEL, dtype: 'fp32', threads: 1 }, () => {});
}

export interface TestServer extends RunningServer {
  logs: string[];
}

/** A server on 127.0.0.1 and a free port, sharing an already loaded model. */
export async function startTestServer(model: ChatModel, overrides: Partial<StartOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    modelsDir: MODELS_DIR,
    model: model.id,
    dtype: 'fp32',
    apiKey: null,
    origins: DEFAULT_ORIGIN_POLICY,
    queueLimit: 16,
    maxBodyBytes: 1024 * 1024,
    statsLimit: 100,
    threads: 1,
    log: (line) => logs.push(line),
    preloaded: model,
    disposeModel: false,
    ...overrides,
  });
  return { ...server, logs };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP request (for what the SDK never sends: broken JSON, preflights, odd methods). */
export function rawRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

export async function getStats(server: { baseURL: string }, headers: Record<string, string> = {}): Promise<StatsSnapshot> {
  const res = await fetch(`${server.baseURL}/slm/stats`, { headers });
  if (!res.ok) throw new Error(`stats: HTTP ${res.status}`);
  const body: StatsSnapshot = await res.json();
  return body;
}

/** Polls `check` every 5 ms until it returns true; fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const PROMPT = [{ role: 'user' as const, content: 'Hello, who are you?' }];
