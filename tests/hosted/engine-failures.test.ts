// HostedEngine against small servers that misbehave on purpose: every failure becomes one typed
// HostedError with a usable sentence, and the API key appears in none of them.
import { describe, expect, it } from 'vitest';
import { HostedEngine, type HostedEngineOptions } from '../../src/engines/hosted/HostedEngine';
import { HostedError, type HostedErrorCode } from '../../src/engines/hosted/errors';
import { bindKey } from '../../src/engines/hosted/keys';
import { DEFAULT_GENERATION, type GenerateRequest, type StreamChunk } from '../../src/engines/types';
import { chunk, openSse, sendJson, sse, fakeServersPerTest, streamAnswer, type FakeServer, type Handler } from './fake-server';

const KEY = 'sk-live-SECRET-4f9a8b7c6d5e';
const serve = fakeServersPerTest();

function engineFor(s: FakeServer, opts: Partial<HostedEngineOptions> = {}): HostedEngine {
  return new HostedEngine({
    endpoint: { presetId: 'custom', baseUrl: s.baseURL, model: 'fake-model' },
    key: bindKey(s.baseURL, KEY),
    ...opts,
  });
}

const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: 'user', content: 'Hello there, how are you today?' }],
  params: DEFAULT_GENERATION,
  ...extra,
});

/** Runs a generation that must fail; checks the code and that the key is nowhere in the error. */
async function failure(engine: HostedEngine, code: HostedErrorCode, req: GenerateRequest = request()): Promise<HostedError> {
  const e = await engine.generate(req).then(
    (r) => new Error(`expected ${code}, got a result: ${JSON.stringify(r.finishReason)}`),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(HostedError);
  if (!(e instanceof HostedError)) throw e;
  expect(e.code, e.message).toBe(code);
  expect(e.message.length).toBeGreaterThan(30);
  for (const text of [e.message, String(e), JSON.stringify(e), e.stack ?? '', JSON.stringify(e.partialText ?? '')]) expect(text).not.toContain(KEY);
  expect(e.cause).toBeUndefined();
  return e;
}

/** A server answering every request with one HTTP error whose message quotes the key it received. */
function errorServer(status: number, headers: Record<string, string> = {}): Promise<FakeServer> {
  return serve((req, res) => {
    const sent = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    sendJson(res, status, { error: { message: `Problem with key ${sent} (status ${status})`, type: 'x', param: null, code: null } }, headers);
  });
}

describe('HTTP errors', () => {
  it('401 → unauthorized, with the server message scrubbed of the key', async () => {
    const e = await failure(engineFor(await errorServer(401)), 'unauthorized');
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/API key/);
    expect(e.message).toContain('[redacted]');
  });

  it('403 → forbidden', async () => {
    const e = await failure(engineFor(await errorServer(403)), 'forbidden');
    expect(e.status).toBe(403);
  });

  it('404 → not_found, naming the model', async () => {
    const e = await failure(engineFor(await errorServer(404)), 'not_found');
    expect(e.message).toContain('"fake-model"');
  });

  it('429 → rate_limited with retryAfterMs from Retry-After (seconds, ms, or a date)', async () => {
    const a = await failure(engineFor(await errorServer(429, { 'retry-after': '7' })), 'rate_limited');
    expect(a.retryAfterMs).toBe(7000);
    expect(a.message).toMatch(/7 s/);
    const b = await failure(engineFor(await errorServer(429, { 'retry-after-ms': '1500', 'retry-after': '9' })), 'rate_limited');
    expect(b.retryAfterMs).toBe(1500);
    const date = new Date(Date.now() + 20_000).toUTCString();
    const c = await failure(engineFor(await errorServer(429, { 'retry-after': date })), 'rate_limited');
    expect(c.retryAfterMs).toBeGreaterThan(15_000);
    expect(c.retryAfterMs).toBeLessThanOrEqual(20_000);
    const d = await failure(engineFor(await errorServer(429)), 'rate_limited');
    expect(d.retryAfterMs).toBeUndefined();
  });

  it('500 and 503 → server_error with the status', async () => {
    for (const status of [500, 503]) {
      const e = await failure(engineFor(await errorServer(status)), 'server_error');
      expect(e.status).toBe(status);
    }
  });

  it('does not retry by default (a retry would hide inside the timing)', async () => {
    const s = await errorServer(503);
    await failure(engineFor(s), 'server_error');
    expect(s.requests).toHaveLength(1);
  });
});

describe('network failures', () => {
  it('nothing listening → unreachable, explaining CORS', async () => {
    const s = await serve(() => {});
    const url = s.baseURL;
    await s.close();
    const engine = new HostedEngine({ endpoint: { presetId: 'ollama', baseUrl: url, model: 'm' }, key: bindKey(url, KEY) });
    const e = await failure(engine, 'unreachable');
    expect(e.message).toMatch(/CORS/);
    expect(e.message).toMatch(/OLLAMA_ORIGINS/);
  });

  it('connection dropped mid-stream → network_lost, keeping the partial text', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('Hello'));
      sse(res, chunk(' wor'));
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const e = await failure(engineFor(s), 'network_lost');
    expect(e.partialText).toBe('Hello wor');
  });

  it('a stream that stalls → timeout after the idle limit', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('Hel'));
      // …and then nothing, with the connection open.
    });
    const t0 = performance.now();
    const e = await failure(engineFor(s, { idleTimeoutMs: 300 }), 'timeout');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(5_000);
    expect(e.message).toMatch(/0\.3 s/);
    expect(e.partialText).toBe('Hel');
    await s.requests[0]?.closed; // the engine hung up
  });

  it('a server that never answers → timeout after the first-chunk limit', async () => {
    const s = await serve(() => {});
    await failure(engineFor(s, { firstChunkTimeoutMs: 300 }), 'timeout');
    await s.requests[0]?.closed;
  });
});

describe('broken streams', () => {
  it('a line that is not JSON → malformed_stream', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('ok'));
      sse(res, '{"id": "x", "choices": [ oops');
      sse(res, '[DONE]');
      res.end();
    });
    await failure(engineFor(s), 'malformed_stream');
  });

  it('a stream that ends with no finish reason and no [DONE] → truncated_stream', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('The answer is'));
      res.end();
    });
    const e = await failure(engineFor(s), 'truncated_stream');
    expect(e.partialText).toBe('The answer is');
  });

  it('an error event inside the stream → server_error with its message', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('Hi'));
      sse(res, { error: { message: 'model overloaded', type: 'server_error' } });
      res.end();
    });
    const e = await failure(engineFor(s), 'server_error');
    expect(e.message).toContain('model overloaded');
  });

  it('a 200 HTML page (a login wall, a wrong URL) → not_event_stream, telling to check the URL', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><body><h1>Sign in</h1><form>…</form></body></html>');
    });
    const e = await failure(engineFor(s), 'not_event_stream');
    expect(e.message).toMatch(/did not answer with an OpenAI-style event stream/);
    expect(e.message).toMatch(/Check the URL/);
    expect(e.message).toContain('text/html');
  });

  it('an empty 200 body → truncated_stream', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      res.end();
    });
    await failure(engineFor(s), 'truncated_stream');
  });
});

describe('finish reasons and token counts', () => {
  it("finish_reason content_filter → finishReason 'content_filter' (not an error)", async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['I cannot'], { finish: 'content_filter', usage: [12, 2] }));
    const r = await engineFor(s).generate(request());
    expect(r.finishReason).toBe('content_filter');
    expect(r.text).toBe('I cannot');
  });

  it('no usage chunk → estimated token counts (about 4 characters per token)', async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['abcd', 'efgh', 'ijkl'], { usage: null }));
    const r = await engineFor(s).generate(request());
    expect(r.finishReason).toBe('stop');
    expect(r.metrics.tokenCountSource).toBe('estimated');
    expect(r.metrics.outputTokens).toBe(3);
    expect(r.metrics.inputTokens).toBe(Math.round('Hello there, how are you today?'.length / 4));
    expect(r.metrics.prefillTps).toBeNull();
  });

  it('usage chunk → counts from usage (reasoning tokens are not visible output)', async () => {
    const s = await serve((_req, res) => {
      openSse(res);
      sse(res, chunk('a'));
      sse(res, chunk('b', 'length'));
      sse(res, { ...chunk(null), choices: [], usage: { prompt_tokens: 9, completion_tokens: 30, total_tokens: 39, completion_tokens_details: { reasoning_tokens: 28 } } });
      sse(res, '[DONE]');
      res.end();
    });
    const r = await engineFor(s).generate(request());
    expect(r.finishReason).toBe('length');
    expect(r.metrics).toMatchObject({ tokenCountSource: 'usage', inputTokens: 9, outputTokens: 2 });
  });

  it('sends one streaming request in the OpenAI shape, without telemetry headers', async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['x'], { usage: [1, 1] }));
    await engineFor(s).generate(request({ params: { ...DEFAULT_GENERATION, greedy: true, maxNewTokens: 33 } }));
    const req = s.requests[0];
    expect(req?.url).toBe('/v1/chat/completions');
    expect(req?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(Object.keys(req?.headers ?? {}).filter((h) => h.startsWith('x-stainless'))).toEqual([]);
    expect(JSON.parse(req?.body ?? '{}')).toEqual({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'Hello there, how are you today?' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 33,
      temperature: 0,
    });
  });
});

describe('AbortSignal', () => {
  it('stops the stream, hangs up, and returns what arrived with finishReason abort', async () => {
    let sent = 0;
    const s = await serve((_req, res) => {
      openSse(res);
      const timer = setInterval(() => {
        sse(res, chunk(`t${sent++} `));
        if (sent > 1000) clearInterval(timer); // bounded
      }, 10);
      res.on('close', () => clearInterval(timer));
    });
    const controller = new AbortController();
    const chunks: StreamChunk[] = [];
    const r = await engineFor(s).generate(
      request({
        signal: controller.signal,
        onChunk: (c) => {
          chunks.push(c);
          if (chunks.length === 3) controller.abort();
        },
      }),
    );
    expect(r.finishReason).toBe('abort');
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(r.text).toBe(chunks.map((c) => c.text).join(''));
    await s.requests[0]?.closed;
    const at = sent;
    await new Promise((res) => setTimeout(res, 100));
    expect(sent).toBe(at); // the server stopped sending: the connection is gone
  });

  it('an already aborted signal returns at once without output', async () => {
    const s = await serve((_req, res) => streamAnswer(res, ['x']));
    const controller = new AbortController();
    controller.abort();
    const r = await engineFor(s).generate(request({ signal: controller.signal }));
    expect(r.finishReason).toBe('abort');
    expect(r.text).toBe('');
  });
});
