/** Shared helpers for the reference-server tests (and the e2e tests' server): start a server on a free port, raw HTTP, polling. */
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_ORIGIN_POLICY } from '../../server/cors';
import { loadModel, startServer, type RunningServer, type StartOptions } from '../../server/start';
import type { ChatModel } from '../../server/model';
import type { StatsSnapshot } from '../../server/stats';

export const MODELS_DIR = path.resolve('public/models');
/** The small model: fast enough for many requests per test. */
export const TEST_MODEL = 'slm-pocket';

/** The small model, fp32 on one thread (the machine is shared); the e2e tests pass the build's snapshot. */
export function loadTestModel(modelsDir = MODELS_DIR): Promise<ChatModel> {
  return loadModel({ modelsDir, model: TEST_MODEL, dtype: 'fp32', threads: 1 }, () => {});
}

export interface TestServer extends RunningServer {
  logs: string[];
}

export interface ReferenceServerOptions extends Partial<Omit<StartOptions, 'model' | 'preloaded' | 'disposeModel' | 'log'>> {
  /** A model folder to load (close() disposes it), or an already loaded model to share (left loaded). */
  model: string | ChatModel;
}

/**
 * The reference server as every test starts it: 127.0.0.1 on a free port, no key, the default
 * origins, fp32 on one thread (the machine is shared), its log lines kept in `logs`. `modelsDir`
 * defaults to public/models; the e2e tests pass the build's snapshot.
 */
export async function startReferenceServer({ model, ...overrides }: ReferenceServerOptions): Promise<TestServer> {
  const logs: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    modelsDir: MODELS_DIR,
    model: typeof model === 'string' ? model : model.id,
    dtype: 'fp32',
    apiKey: null,
    origins: DEFAULT_ORIGIN_POLICY,
    queueLimit: 16,
    maxBodyBytes: 1024 * 1024,
    statsLimit: 100,
    threads: 1,
    log: (line) => logs.push(line),
    ...overrides,
    ...(typeof model === 'string' ? {} : { preloaded: model, disposeModel: false }),
  });
  return { ...server, logs };
}

/** A server sharing an already loaded model. */
export function startTestServer(model: ChatModel, overrides: Omit<ReferenceServerOptions, 'model'> = {}): Promise<TestServer> {
  return startReferenceServer({ ...overrides, model });
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
