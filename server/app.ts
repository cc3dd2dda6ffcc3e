/**
 * HTTP routing for the reference server (node:http, no framework): CORS and Cross-Origin-Resource-
 * Policy on every response, preflights, the optional API key, then the routes. Every failure is an
 * OpenAI-style error with its status.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { isAuthorized } from './auth';
import { readJson } from './body';
import { handleChatCompletion, sendError } from './chat';
import { corsHeaders, isOriginAllowed, preflightHeaders, type OriginPolicy } from './cors';
import { ApiError, apiErrors } from './errors';
import type { ChatModel } from './model';
import { modelObject } from './openai-shapes';
import { FifoQueue } from './queue';
import { StatsLog, type StatsSnapshot } from './stats';
import { errorText } from '../src/lib/errors';

export interface AppOptions {
  model: ChatModel;
  /** null: no key required. */
  apiKey: string | null;
  origins: OriginPolicy;
  /** Requests that may wait while one generates (beyond that: 429). */
  queueLimit: number;
  maxBodyBytes: number;
  /** How many request timings GET /v1/slm/stats keeps. */
  statsLimit: number;
  log: (line: string) => void;
}

export interface App {
  server: http.Server;
  queue: FifoQueue;
  stats: StatsLog;
}

/** Route → allowed methods (for 405 answers). */
const ROUTES: ReadonlyArray<{ match: (p: string) => boolean; methods: readonly string[] }> = [
  { match: (p) => p === '/health', methods: ['GET'] },
  { match: (p) => p === '/v1/models' || p.startsWith('/v1/models/'), methods: ['GET'] },
  { match: (p) => p === '/v1/chat/completions', methods: ['POST'] },
  { match: (p) => p === '/v1/slm/stats' || p.startsWith('/v1/slm/stats/'), methods: ['GET'] },
];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function createApp(opts: AppOptions): App {
  const queue = new FifoQueue(opts.queueLimit);
  const stats = new StatsLog(opts.statsLimit);
  const chatCtx = { model: opts.model, queue, stats, log: opts.log };

  const handle = async (req: IncomingMessage, res: ServerResponse, arrival: number, base: Record<string, string>) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const origin = req.headers.origin;

    if (origin && !isOriginAllowed(origin, opts.origins)) throw apiErrors.originNotAllowed(origin);
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...base, ...(origin ? preflightHeaders(req.headers) : { Allow: 'GET, POST, OPTIONS' }) });
      res.end();
      return;
    }
    const route = ROUTES.find((r) => r.match(path));
    if (!route) throw apiErrors.routeNotFound(method, path);
    if (!route.methods.includes(method)) throw apiErrors.methodNotAllowed(method, path, route.methods);
    if (path === '/health') {
      json(res, 200, { status: 'ok', model: opts.model.id }, base);
      return;
    }
    if (!isAuthorized(req.headers, opts.apiKey)) throw apiErrors.unauthorized();

    if (path === '/v1/models') {
      json(res, 200, { object: 'list', data: [modelObject(opts.model.id, opts.model.created)] }, base);
    } else if (path.startsWith('/v1/models/')) {
      const id = decodePart(path.slice('/v1/models/'.length));
      if (id !== opts.model.id) throw apiErrors.modelNotFound(id, opts.model.id);
      json(res, 200, modelObject(opts.model.id, opts.model.created), base);
    } else if (path === '/v1/chat/completions') {
      const body = await readJson(req, opts.maxBodyBytes);
      await handleChatCompletion(res, chatCtx, body, arrival, base);
    } else if (path === '/v1/slm/stats') {
      const snapshot: StatsSnapshot = {
        object: 'slm.stats',
        model: opts.model.id,
        queue: { running: queue.busy, waiting: queue.waiting, limit: opts.queueLimit },
        kvCache: kvCacheSnapshot(opts.model),
        data: stats.list(),
      };
      json(res, 200, snapshot, base);
    } else {
      const id = decodePart(path.slice('/v1/slm/stats/'.length));
      const entry = stats.get(id);
      if (!entry) throw apiErrors.notFound(`No timing for request '${id}' (only the last ${opts.statsLimit} are kept).`);
      json(res, 200, entry, base);
    }
  };

  const server = http.createServer((req, res) => {
    const arrival = performance.now();
    const base = corsHeaders(req.headers.origin, opts.origins);
    handle(req, res, arrival, base).catch((e: unknown) => {
      if (!(e instanceof ApiError)) opts.log(`unexpected error on ${req.method} ${req.url}: ${errorText(e)}`);
      sendError(res, e, base);
    });
  });
  return { server, queue, stats };
}

function kvCacheSnapshot(model: ChatModel): StatsSnapshot['kvCache'] {
  const s = model.kvCacheStats();
  return s ? { ...s, off: null } : { off: model.kvCacheOff ?? 'off' };
}
