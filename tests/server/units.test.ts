// The reference server's pure parts: validation, stop strings, queue, CORS policy, auth, config.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAuthorized, presentedKey } from '../../server/auth';
import { parseConfig } from '../../server/config';
import { isHeaderAllowed, isOriginAllowed, parseOriginPolicy, preflightHeaders, DEFAULT_ORIGIN_POLICY } from '../../server/cors';
import { ApiError } from '../../server/errors';
import { resolveModelId, samplingOverrides } from '../../server/model';
import { FifoQueue, QueueAbortError, QueueFullError } from '../../server/queue';
import { StopStringFilter } from '../../server/stop';
import { parseChatRequest, paramName } from '../../server/validation';

const msgs = [{ role: 'user', content: 'hi' }];

function badParam(body: object): string | null {
  try {
    parseChatRequest(body);
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return e.param;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}

describe('parseChatRequest', () => {
  it('normalizes a full request', () => {
    const r = parseChatRequest({
      model: 'm',
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
        { role: 'assistant', content: null },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
      max_completion_tokens: 7,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 20,
      seed: 3,
      stop: 'END',
      user: 'ignored',
      unknown_field: 1,
    });
    expect(r).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'ab' },
        { role: 'assistant', content: '' },
      ],
      stream: true,
      includeUsage: true,
      maxTokens: 7,
      minTokens: 0,
      sampling: { temperature: 0.5, topP: 0.9, topK: 20, repetitionPenalty: null, seed: 3 },
      stop: ['END'],
      responseFormat: { type: 'text' },
    });
  });

  it('names the bad parameter', () => {
    expect(badParam({ messages: msgs })).toBe('model');
    expect(badParam({ model: 'm' })).toBe('messages');
    expect(badParam({ model: 'm', messages: 'hi' })).toBe('messages');
    expect(badParam({ model: 'm', messages: [{ role: 'tool', content: 'x' }] })).toBe('messages[0].role');
    expect(badParam({ model: 'm', messages: [{ role: 'user' }] })).toBe('messages[0].content');
    expect(badParam({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] })).toBe('messages[0].content[0]');
    expect(badParam({ model: 'm', messages: [{ role: 'user', content: 5 }] })).toBe('messages[0].content');
    expect(badParam({ model: 'm', messages: msgs, max_tokens: 1.5 })).toBe('max_tokens');
    expect(badParam({ model: 'm', messages: msgs, top_p: 2 })).toBe('top_p');
    expect(badParam({ model: 'm', messages: msgs, stop: ['a', 'b', 'c', 'd', 'e'] })).toBe('stop');
    expect(badParam({ model: 'm', messages: msgs, frequency_penalty: 0.5 })).toBe('frequency_penalty');
    expect(badParam({ model: 'm', messages: msgs, logprobs: true })).toBe('logprobs');
    expect(badParam({ model: 'm', messages: msgs, max_tokens: 3, min_tokens: 4 })).toBe('min_tokens');
    expect(badParam({ model: 'm', messages: msgs, response_format: { type: 'yaml' } })).toBe('response_format.type');
    expect(badParam({ model: 'm', messages: msgs, response_format: { type: 'json_schema' } })).toBe('response_format.json_schema');
    expect(badParam({ model: 'm', messages: msgs, response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'object', properties: { a: { not: {} } } } } } })).toBe('response_format');
    expect(() => parseChatRequest([1])).toThrow(ApiError);
    expect(paramName(['messages', 3, 'content', 0])).toBe('messages[3].content[0]');
  });

  it('maps response_format to the output format, refusing a schema no grammar can be made of with the reason', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } } };
    expect(parseChatRequest({ model: 'm', messages: msgs }).responseFormat).toEqual({ type: 'text' });
    expect(parseChatRequest({ model: 'm', messages: msgs, response_format: { type: 'json_object' } }).responseFormat).toEqual({ type: 'json_object' });
    expect(parseChatRequest({ model: 'm', messages: msgs, response_format: { type: 'json_schema', json_schema: { name: 'p', schema, strict: true } } }).responseFormat).toEqual({ type: 'json_schema', name: 'p', schema });
    const refused = (rf: unknown) => {
      try {
        parseChatRequest({ model: 'm', messages: msgs, response_format: rf });
      } catch (e) {
        if (e instanceof ApiError) return `${e.status} ${e.message}`;
      }
      return 'accepted';
    };
    expect(refused({ type: 'json_schema', json_schema: { name: 'p', schema: { $ref: '#/nope' } } })).toBe("400 Invalid 'response_format': \"$ref\" at #/$ref points to #/nope, which is not in the schema.");
    expect(refused({ type: 'json_schema', json_schema: { name: 'p', schema: { type: 'string', description: 'x'.repeat(20_000) } } })).toMatch(/^400 .*too large/);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 14; i++) deep = { type: 'object', properties: { a: deep } };
    expect(refused({ type: 'json_schema', json_schema: { name: 'p', schema: deep } })).toMatch(/^400 .*too deep/);
  });

  it('accepts what OpenAI clients send by default', () => {
    const r = parseChatRequest({ model: 'm', messages: msgs, frequency_penalty: 0, presence_penalty: 0, n: 1, logprobs: false, tools: [], stop: null, temperature: null });
    expect(r.sampling.temperature).toBeNull();
    expect(r.stop).toEqual([]);
  });
});

describe('samplingOverrides', () => {
  const s = { temperature: null, topP: null, topK: null, repetitionPenalty: null, seed: null };
  it("leaves the model's default when nothing is set, greedy at temperature 0", () => {
    expect(samplingOverrides(s)).toEqual({});
    expect(samplingOverrides({ ...s, temperature: 0, topP: 0.5 })).toEqual({ doSample: false });
  });
  it('samples with the given knobs; top_k 0 / -1 is off', () => {
    expect(samplingOverrides({ ...s, temperature: 0.7, topP: 0.9, topK: 40, repetitionPenalty: 1.1 })).toEqual({
      doSample: true,
      temperature: 0.7,
      topP: 0.9,
      topK: 40,
      repetitionPenalty: 1.1,
    });
    expect(samplingOverrides({ ...s, topP: 0.5, topK: -1 })).toEqual({ doSample: true, temperature: 1, topP: 0.5, topK: 0 });
  });
});

describe('StopStringFilter', () => {
  const run = (stops: string[], deltas: string[]) => {
    const f = new StopStringFilter(stops);
    let out = '';
    let stopped = false;
    for (const d of deltas) {
      const step = f.push(d);
      out += step.text;
      if (step.stopped) {
        stopped = true;
        break;
      }
    }
    if (!stopped) out += f.flush();
    return { out, stopped };
  };
  it('cuts before a stop string split across deltas', () => {
    expect(run(['END'], ['hello E', 'N', 'D more'])).toEqual({ out: 'hello ', stopped: true });
    expect(run(['\n\n', 'User:'], ['a\n', '\nb'])).toEqual({ out: 'a', stopped: true });
  });
  it('holds back only possible prefixes and releases them when they do not match', () => {
    const f = new StopStringFilter(['END']);
    expect(f.push('abcE')).toEqual({ text: 'abc', stopped: false });
    expect(f.push('x')).toEqual({ text: 'Ex', stopped: false });
    expect(f.push('EN')).toEqual({ text: '', stopped: false });
    expect(f.flush()).toBe('EN');
  });
  it('picks the earliest of several stops; no stops passes through', () => {
    expect(run(['b', 'a'], ['xxab'])).toEqual({ out: 'xx', stopped: true });
    expect(run([], ['a', 'b'])).toEqual({ out: 'ab', stopped: false });
  });
});

describe('FifoQueue', () => {
  const tick = () => new Promise((r) => setTimeout(r, 1));
  it('runs jobs one at a time in arrival order', async () => {
    const q = new FifoQueue(10);
    const order: string[] = [];
    let active = 0;
    const job = (name: string) => async () => {
      active++;
      expect(active).toBe(1);
      order.push(`start ${name}`);
      await tick();
      order.push(`end ${name}`);
      active--;
      return name;
    };
    const signal = new AbortController().signal;
    const results = await Promise.all(['a', 'b', 'c'].map((n) => q.run(job(n), signal)));
    expect(results).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(q.busy).toBe(false);
  });

  it('refuses beyond the limit and drops waiters whose signal fires', async () => {
    const q = new FifoQueue(1);
    let release = () => {};
    const blocker = q.run(() => new Promise<void>((r) => (release = r)), new AbortController().signal);
    const c = new AbortController();
    const waiting = q.run(async () => 'never', c.signal);
    expect(q.waiting).toBe(1);
    await expect(q.run(async () => 'x', new AbortController().signal)).rejects.toBeInstanceOf(QueueFullError);
    c.abort();
    await expect(waiting).rejects.toBeInstanceOf(QueueAbortError);
    expect(q.waiting).toBe(0);
    release();
    await blocker;
    expect(await q.run(async () => 'next', new AbortController().signal)).toBe('next');
  });

  it('keeps running after a job throws', async () => {
    const q = new FifoQueue(2);
    const s = new AbortController().signal;
    await expect(q.run(async () => Promise.reject(new Error('boom')), s)).rejects.toThrow('boom');
    expect(await q.run(async () => 1, s)).toBe(1);
  });
});

describe('CORS policy', () => {
  it('allows localhost origins by default, on any port, and nothing else', () => {
    for (const o of ['http://localhost:5173', 'http://127.0.0.1:4173', 'https://localhost', 'http://[::1]:3000']) expect(isOriginAllowed(o, DEFAULT_ORIGIN_POLICY), o).toBe(true);
    for (const o of ['https://evil.example', 'http://localhost.evil.example', 'null', 'file://', 'chrome-extension://abc']) expect(isOriginAllowed(o, DEFAULT_ORIGIN_POLICY), o).toBe(false);
  });
  it('parses --allow-origin values', () => {
    const p = parseOriginPolicy(['https://a.example:8443/', 'localhost,https://b.example']);
    expect(isOriginAllowed('https://a.example:8443', p)).toBe(true);
    expect(isOriginAllowed('https://b.example', p)).toBe(true);
    expect(isOriginAllowed('http://localhost:1', p)).toBe(true);
    expect(isOriginAllowed('https://c.example', p)).toBe(false);
    expect(isOriginAllowed('https://anything', parseOriginPolicy(['*']))).toBe(true);
    expect(() => parseOriginPolicy(['not a url'])).toThrow(/not an origin/);
  });
  it('allows the headers the openai client sends, and Private Network Access', () => {
    for (const h of ['Authorization', 'content-type', 'api-key', 'x-stainless-os', 'X-Stainless-Runtime-Version']) expect(isHeaderAllowed(h), h).toBe(true);
    expect(isHeaderAllowed('x-custom-evil')).toBe(false);
    const h = preflightHeaders({ 'access-control-request-headers': 'authorization, x-foo', 'access-control-request-private-network': 'true' });
    expect(h['Access-Control-Allow-Headers']).toBe('authorization');
    expect(h['Access-Control-Allow-Private-Network']).toBe('true');
  });
});

describe('API key check', () => {
  it('accepts Bearer or api-key with the right key only', () => {
    expect(isAuthorized({}, null)).toBe(true);
    expect(isAuthorized({ authorization: 'Bearer k1' }, 'k1')).toBe(true);
    expect(isAuthorized({ authorization: 'bearer  k1 ' }, 'k1')).toBe(true);
    expect(isAuthorized({ 'api-key': 'k1' }, 'k1')).toBe(true);
    expect(isAuthorized({ authorization: 'Bearer k2' }, 'k1')).toBe(false);
    expect(isAuthorized({ authorization: 'Basic k1' }, 'k1')).toBe(false);
    expect(isAuthorized({}, 'k1')).toBe(false);
    expect(presentedKey({ authorization: 'Bearer x' })).toBe('x');
  });
});

describe('config', () => {
  it('has the documented defaults and reads the key from the environment', () => {
    const c = parseConfig([], { SLM_SERVER_API_KEY: 'env-key' });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8787, model: 'slm-reference', dtype: 'fp32', apiKey: 'env-key', queueLimit: 16 });
    expect(c.modelsDir).toBe(path.resolve('public/models'));
    expect(parseConfig(['--api-key', 'flag-key'], { SLM_SERVER_API_KEY: 'env-key' }).apiKey).toBe('flag-key');
  });
  it('parses flags and rejects bad ones', () => {
    const c = parseConfig(['--port', '0', '--host', '0.0.0.0', '--model', 'slm-pocket', '--dtype', 'q8', '--allow-origin', 'https://x.example', '--queue-limit', '2', '--quiet'], {});
    expect(c).toMatchObject({ port: 0, host: '0.0.0.0', model: 'slm-pocket', dtype: 'q8', queueLimit: 2, quiet: true, apiKey: null, int8Step: false });
    expect(parseConfig(['--dtype', 'q8', '--int8-step'], {}).int8Step).toBe(true);
    expect(isOriginAllowed('https://x.example', c.origins)).toBe(true);
    expect(() => parseConfig(['--port', 'eighty'], {})).toThrow(/--port/);
    expect(() => parseConfig(['--dtype', 'int3'], {})).toThrow(/--dtype/);
    expect(() => parseConfig(['--model', '../etc'], {})).toThrow(/--model/);
    expect(() => parseConfig(['--bogus'], {})).toThrow();
  });
});

describe('resolveModelId', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slm-models-'));
  const make = (id: string) => {
    fs.mkdirSync(path.join(dir, id), { recursive: true });
    fs.writeFileSync(path.join(dir, id, 'config.json'), '{}');
  };
  it('falls back from slm-reference to slm-pocket with a log line, and only then', () => {
    make('slm-pocket');
    const log: string[] = [];
    expect(resolveModelId(dir, 'slm-reference', (l) => log.push(l))).toBe('slm-pocket');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/slm-reference not found.*serving slm-pocket/);
    expect(() => resolveModelId(dir, 'other', () => {})).toThrow(/not found/);
    make('slm-reference');
    expect(resolveModelId(dir, 'slm-reference', (l) => log.push(l))).toBe('slm-reference');
    expect(log).toHaveLength(1);
  });
});
