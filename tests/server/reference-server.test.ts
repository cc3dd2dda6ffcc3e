// The reference server with the real pocket model, driven by the official openai client (unmodified).
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../server/model';
import { getStats, loadTestModel, PROMPT, rawRequest, startTestServer, TEST_MODEL, type TestServer } from './helpers';

let model: ChatModel;
let srv: TestServer;
let client: OpenAI;

beforeAll(async () => {
  model = await loadTestModel();
  srv = await startTestServer(model);
  client = new OpenAI({ baseURL: srv.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await srv?.close();
  await model?.dispose();
});

/** Asserts an SDK error carries OpenAI's error body with the given status. */
function expectApiError(e: unknown, status: number, param?: string | null): APIError {
  expect(e).toBeInstanceOf(APIError);
  if (!(e instanceof APIError)) throw e;
  expect(e.status).toBe(status);
  expect(e.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  if (param !== undefined) expect(e.param).toBe(param);
  return e;
}

describe('GET /v1/models', () => {
  it('lists the served model in OpenAI list format', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual([TEST_MODEL]);
    const one = await client.models.retrieve(TEST_MODEL);
    expect(one).toMatchObject({ id: TEST_MODEL, object: 'model', owned_by: expect.any(String), created: expect.any(Number) });
  });
});

describe('POST /v1/chat/completions, non-streaming', () => {
  it('answers a chat.completion with usage', async () => {
    const r = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 64 });
    expect(r.object).toBe('chat.completion');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.model).toBe(TEST_MODEL);
    const choice = r.choices[0];
    expect(choice?.message.role).toBe('assistant');
    expect(choice?.message.content?.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(choice?.finish_reason);
    expect(r.usage?.prompt_tokens).toBeGreaterThan(5);
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
  });

  it('greedy answers are deterministic, and match the streamed text', async () => {
    const a = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0 });
    const b = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0 });
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    const stream = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe(a.choices[0]?.message.content);
  });

  it('max_tokens → finish_reason length with exactly that many tokens', async () => {
    const r = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 5 });
    expect(r.choices[0]?.finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(5);
    const r2 = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_completion_tokens: 3 });
    expect(r2.choices[0]?.finish_reason).toBe('length');
    expect(r2.usage?.completion_tokens).toBe(3);
  });

  it('seeded sampling repeats itself', async () => {
    const ask = () => client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 20, temperature: 1.5, top_p: 1, seed: 7 });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
  });

  it('top_p is applied: a tiny nucleus is the greedy answer even at a high temperature; top_p 1 is not', async () => {
    const greedy = (await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0 })).choices[0]?.message.content;
    const hot = (topP: number, seed: number) =>
      client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 2, top_p: topP, seed }).then((r) => r.choices[0]?.message.content);
    for (const seed of [1, 2, 3]) expect(await hot(0.0001, seed)).toBe(greedy);
    // The same seeds without a nucleus wander off (so the equality above is top_p's doing).
    const free = await Promise.all([1, 2, 3].map((seed) => hot(1, seed)));
    expect(free.some((t) => t !== greedy)).toBe(true);
  });

  it('stop strings end the answer before the stop text', async () => {
    const free = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0 });
    const full = free.choices[0]?.message.content ?? '';
    const cut = full.indexOf(' ', 3);
    expect(cut).toBeGreaterThan(0);
    const stop = full.slice(cut, cut + 3);
    const r = await client.chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 24, temperature: 0, stop: [stop] });
    expect(r.choices[0]?.message.content).toBe(full.slice(0, full.indexOf(stop)));
    expect(r.choices[0]?.finish_reason).toBe('stop');
  });
});

describe('POST /v1/chat/completions, streaming', () => {
  it('streams a role delta, content deltas, a finish chunk, a usage chunk, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: TEST_MODEL,
      messages: PROMPT,
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(3);
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === TEST_MODEL)).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage?.completion_tokens).toBe(16);
    const finishChunk = chunks.at(-2);
    expect(finishChunk?.choices[0]?.finish_reason).toBe('length');
    const content = chunks.slice(1, -2);
    expect(content.every((c) => typeof c.choices[0]?.delta.content === 'string' && c.choices[0]?.finish_reason === null)).toBe(true);
    expect(content.every((c) => c.usage === null)).toBe(true);
  });

  it('sends no usage chunk unless asked, and ends with [DONE] on the wire', async () => {
    const res = await rawRequest(`${srv.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, messages: PROMPT, max_tokens: 4, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(parsed.some((p) => 'usage' in p)).toBe(false);
    expect(parsed.at(-1).choices[0].finish_reason).toBe('length');
  });
});

describe('errors in OpenAI format', () => {
  it('invalid JSON → 400 invalid_json', async () => {
    const res = await rawRequest(`${srv.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "x", ' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_json' } });
  });

  it('missing messages → 400 naming the parameter', async () => {
    const e = await client.post('/chat/completions', { body: { model: TEST_MODEL } }).catch((x: unknown) => x);
    const err = expectApiError(e, 400, 'messages');
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.code).toBe('missing_required_parameter');
  });

  it('bad role, bad parameter values and n > 1 → 400 naming the parameter', async () => {
    const bad = async (body: object, param: string) => {
      const res = await rawRequest(`${srv.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: TEST_MODEL, messages: PROMPT, ...body }),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.parse(res.body).error.param, JSON.stringify(body)).toBe(param);
    };
    await bad({ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role');
    await bad({ messages: [] }, 'messages');
    await bad({ temperature: 3 }, 'temperature');
    await bad({ max_tokens: 0 }, 'max_tokens');
    await bad({ top_p: 'high' }, 'top_p');
    await bad({ n: 2 }, 'n');
    await bad({ tools: [{ type: 'function' }] }, 'tools');
    await bad({ stream_options: { include_usage: true } }, 'stream_options');
  });

  it('a conversation longer than the context → 400 context_length_exceeded', async () => {
    const long = 'word '.repeat(2000);
    const e = await client.chat.completions.create({ model: TEST_MODEL, messages: [{ role: 'user', content: long }] }).catch((x: unknown) => x);
    expect(expectApiError(e, 400, 'messages').code).toBe('context_length_exceeded');
  });

  it('unknown model → 404 model_not_found', async () => {
    const e = await client.chat.completions.create({ model: 'gpt-9', messages: PROMPT }).catch((x: unknown) => x);
    const err = expectApiError(e, 404, 'model');
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('model_not_found');
    const e2 = await client.models.retrieve('gpt-9').catch((x: unknown) => x);
    expectApiError(e2, 404);
  });

  it('unknown route → 404, wrong method → 405 with Allow', async () => {
    const e = await client.get('/embeddings').catch((x: unknown) => x);
    expect(expectApiError(e, 404).code).toBe('unknown_url');
    const res = await rawRequest(`${srv.baseURL}/chat/completions`, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('POST');
    expect(JSON.parse(res.body).error.code).toBe('method_not_allowed');
  });

  it('a body over the limit → 413', async () => {
    const small = await startTestServer(model, { maxBodyBytes: 2048 });
    try {
      const e = await new OpenAI({ baseURL: small.baseURL, apiKey: 'x', maxRetries: 0 }).chat.completions
        .create({ model: TEST_MODEL, messages: [{ role: 'user', content: 'x'.repeat(5000) }] })
        .catch((x: unknown) => x);
      expect(expectApiError(e, 413).code).toBe('request_too_large');
    } finally {
      await small.close();
    }
  });
});

describe('API key', () => {
  const KEY = 'sk-test-reference-0123456789';
  let keyed: TestServer;
  beforeAll(async () => {
    keyed = await startTestServer(model, { apiKey: KEY });
  });
  afterAll(async () => keyed?.close());

  it('wrong or missing key → 401; right key as Bearer or api-key → 200; the key is never logged', async () => {
    const wrong = await new OpenAI({ baseURL: keyed.baseURL, apiKey: 'sk-wrong', maxRetries: 0 }).models.list().catch((x: unknown) => x);
    const err = expectApiError(wrong, 401);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
    const missing = await rawRequest(`${keyed.baseURL}/models`);
    expect(missing.status).toBe(401);
    const ok = await new OpenAI({ baseURL: keyed.baseURL, apiKey: KEY, maxRetries: 0 }).chat.completions.create({ model: TEST_MODEL, messages: PROMPT, max_tokens: 2 });
    expect(ok.choices).toHaveLength(1);
    const azureStyle = await rawRequest(`${keyed.baseURL}/models`, { headers: { 'api-key': KEY } });
    expect(azureStyle.status).toBe(200);
    expect(keyed.logs.length).toBeGreaterThan(0);
    expect(keyed.logs.join('\n')).not.toContain(KEY);
    expect(JSON.stringify(await getStats(keyed, { authorization: `Bearer ${KEY}` }))).not.toContain(KEY);
  });
});

describe('CORS', () => {
  const APP = 'http://localhost:5173';

  it('answers a preflight from the app origin with the headers the openai client needs', async () => {
    const res = await rawRequest(`${srv.baseURL}/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-stainless-os,x-stainless-lang,x-stainless-retry-count',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    const allowed = String(res.headers['access-control-allow-headers']).split(',').map((h) => h.trim());
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-stainless-os', 'x-stainless-lang', 'x-stainless-retry-count']));
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['vary']).toContain('Origin');
  });

  it('sends CORS and CORP headers on real responses, refuses other origins', async () => {
    const ok = await rawRequest(`${srv.baseURL}/models`, { headers: { origin: 'http://127.0.0.1:4173' } });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:4173');
    expect(ok.headers['access-control-expose-headers']).toContain('x-request-id');
    expect(ok.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const evil = await rawRequest(`${srv.baseURL}/models`, { headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await rawRequest(`${srv.baseURL}/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('--allow-origin adds exact origins', async () => {
    const { parseOriginPolicy } = await import('../../server/cors');
    const s = await startTestServer(model, { origins: parseOriginPolicy(['https://app.example']) });
    try {
      const ok = await rawRequest(`${s.baseURL}/models`, { headers: { origin: 'https://app.example' } });
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
      const local = await rawRequest(`${s.baseURL}/models`, { headers: { origin: 'http://localhost:5173' } });
      expect(local.status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe('GET /v1/slm/stats', () => {
  it('records server first-byte time for a stream, never later than the client saw it', async () => {
    const body: ChatCompletionCreateParamsStreaming = { model: TEST_MODEL, messages: PROMPT, max_tokens: 12, stream: true };
    const t0 = performance.now();
    const stream = await client.chat.completions.create(body);
    let clientTtft: number | null = null;
    let id = '';
    for await (const c of stream) {
      id = c.id;
      if (clientTtft === null && c.choices[0]?.delta.content) clientTtft = performance.now() - t0;
    }
    const stats = await getStats(srv);
    const t = stats.data.find((d) => d.id === id);
    expect(t).toBeDefined();
    if (!t || clientTtft === null) throw new Error('no timing');
    expect(t).toMatchObject({ stream: true, status: 200, model: TEST_MODEL, completionTokens: 12, finishReason: 'length' });
    expect(t.firstTokenMs).toBeGreaterThan(0);
    expect(t.firstByteMs).toBeGreaterThanOrEqual(t.firstTokenMs ?? Infinity);
    expect(t.firstByteMs).toBeLessThanOrEqual(t.totalMs);
    expect(t.firstByteMs).toBeLessThanOrEqual(clientTtft);
    expect(t.decodeTps).toBeGreaterThan(0);
    expect(t.headersMs).toBeLessThanOrEqual(t.firstByteMs ?? 0);
    const single = await rawRequest(`${srv.baseURL}/slm/stats/${id}`);
    expect(JSON.parse(single.body)).toEqual(t);
    expect(srv.logs.some((l) => l.startsWith(id) && l.includes('first_byte='))).toBe(true);
  });
});
