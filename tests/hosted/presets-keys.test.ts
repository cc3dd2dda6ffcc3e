// Endpoint presets, client configuration (checked on the wire), key handling, request building.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/engines/hosted/client';
import { HostedError, parseRetryAfter, redact } from '../../src/engines/hosted/errors';
import { HostedEngine } from '../../src/engines/hosted/HostedEngine';
import { bindKey, KeyRing, keyForRequest, MemoryKeyStorage, storageKeyFor, type KeyStorage } from '../../src/engines/hosted/keys';
import { buildClientConfig, defaultSettings, PRESET_IDS, PRESETS, type EndpointSettings } from '../../src/engines/hosted/presets';
import { buildChatRequest, estimateTokens } from '../../src/engines/hosted/request';
import { DEFAULT_GENERATION } from '../../src/engines/types';
import { startFakeServer, streamAnswer, type CapturedRequest, type FakeServer } from './fake-server';

let capture: FakeServer;
beforeAll(async () => {
  capture = await startFakeServer((_req, res) => streamAnswer(res, ['ok'], { usage: [1, 1] }));
});
afterAll(async () => capture?.close());

/** Sends one chat request through a client built for `settings` and returns what arrived. */
async function onTheWire(settings: EndpointSettings, secret: string | null): Promise<CapturedRequest> {
  const before = capture.requests.length;
  const config = buildClientConfig(settings, secret === null ? null : bindKey(settings.baseUrl, secret));
  const client = createClient(config);
  const stream = await client.chat.completions.create({ model: settings.model, messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const _ of stream) {
    /* drain */
  }
  const req = capture.requests[before];
  if (!req) throw new Error('no request arrived');
  return req;
}

function thrown(f: () => unknown): HostedError {
  try {
    f();
  } catch (e) {
    if (e instanceof HostedError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('presets', () => {
  it('have the documented default base URLs', () => {
    expect(PRESET_IDS).toHaveLength(10);
    expect(PRESETS.openai.baseUrl).toBe('https://api.openai.com/v1');
    expect(PRESETS.ollama.baseUrl).toBe('http://localhost:11434/v1');
    expect(PRESETS.lmstudio.baseUrl).toBe('http://localhost:1234/v1');
    expect(PRESETS.vllm.baseUrl).toBe('http://localhost:8000/v1');
    expect(PRESETS.llamacpp.baseUrl).toBe('http://localhost:8080/v1');
    expect(PRESETS.reference.baseUrl).toBe('http://127.0.0.1:8787/v1');
    expect(PRESETS['azure-openai'].baseUrl).toContain('{resource}');
  });

  it('build configs from their defaults (OpenAI with a key, local ones without)', () => {
    const openai = buildClientConfig(defaultSettings('openai'), bindKey('https://api.openai.com/v1', 'sk-1'));
    expect(openai).toMatchObject({ kind: 'openai-compatible', baseURL: 'https://api.openai.com/v1', bearer: 'sk-1', origin: 'https://api.openai.com', defaultQuery: {} });
    for (const id of ['ollama', 'lmstudio', 'vllm', 'llamacpp', 'reference'] as const) {
      const c = buildClientConfig(defaultSettings(id), null);
      expect(c.kind).toBe('openai-compatible');
      if (c.kind === 'openai-compatible') {
        expect(c.baseURL).toBe(PRESETS[id].baseUrl);
        expect(c.bearer).toBeNull();
      }
    }
  });

  it('refuse unusable settings with a clear invalid_config', () => {
    expect(thrown(() => buildClientConfig(defaultSettings('openai'), null)).message).toMatch(/needs an API key/);
    expect(thrown(() => buildClientConfig(defaultSettings('azure-openai'), null)).message).toMatch(/placeholder/);
    expect(thrown(() => buildClientConfig({ ...defaultSettings('custom'), baseUrl: '' }, null)).code).toBe('invalid_config');
    expect(thrown(() => buildClientConfig({ ...defaultSettings('custom'), baseUrl: 'ftp://x' }, null)).code).toBe('invalid_config');
    const az = { presetId: 'azure-openai' as const, baseUrl: 'https://r.openai.azure.com', model: '' };
    expect(thrown(() => buildClientConfig(az, bindKey(az.baseUrl, 'k'))).message).toMatch(/deployment/);
  });

  it('OpenAI-compatible with a key: Authorization Bearer, no telemetry headers unless asked', async () => {
    const req = await onTheWire({ presetId: 'custom', baseUrl: capture.baseURL, model: 'm' }, 'sk-abc');
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-abc');
    expect(req.headers['api-key']).toBeUndefined();
    expect(Object.keys(req.headers).some((h) => h.startsWith('x-stainless'))).toBe(false);
    const withSdk = await onTheWire({ presetId: 'custom', baseUrl: capture.baseURL, model: 'm', sdkHeaders: true }, 'sk-abc');
    expect(withSdk.headers['x-stainless-lang']).toBe('js');
  });

  it('no key: no Authorization header at all', async () => {
    const req = await onTheWire({ presetId: 'ollama', baseUrl: capture.baseURL, model: 'llama3.2' }, null);
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body).model).toBe('llama3.2');
  });

  it('Azure OpenAI: deployment path, api-version query, api-key header and no Authorization', async () => {
    const req = await onTheWire({ presetId: 'azure-openai', baseUrl: capture.url, model: 'my-gpt' }, 'azure-key-1');
    const url = new URL(req.url, capture.url);
    expect(url.pathname).toBe('/openai/deployments/my-gpt/chat/completions');
    expect(url.searchParams.get('api-version')).toBe('2024-10-21');
    expect(req.headers['api-key']).toBe('azure-key-1');
    expect(req.headers.authorization).toBeUndefined();
  });

  it('Azure OpenAI with a Microsoft Entra token: Authorization Bearer, no api-key', async () => {
    const req = await onTheWire({ presetId: 'azure-openai', baseUrl: capture.url, model: 'dep', auth: 'bearer', apiVersion: '2025-01-01-preview' }, 'entra-token');
    expect(req.headers.authorization).toBe('Bearer entra-token');
    expect(req.headers['api-key']).toBeUndefined();
    expect(new URL(req.url, capture.url).searchParams.get('api-version')).toBe('2025-01-01-preview');
  });

  it('Azure AI Foundry inference endpoint: base path kept, api-key header, api-version query', async () => {
    const req = await onTheWire({ presetId: 'azure-foundry', baseUrl: `${capture.url}/models`, model: 'Phi-4' }, 'foundry-key');
    const url = new URL(req.url, capture.url);
    expect(url.pathname).toBe('/models/chat/completions');
    expect(url.searchParams.get('api-version')).toBe('2024-05-01-preview');
    expect(req.headers['api-key']).toBe('foundry-key');
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body).model).toBe('Phi-4');
  });

  it('GitHub Models: bearer token, path under /inference', async () => {
    const req = await onTheWire({ presetId: 'github-models', baseUrl: `${capture.url}/inference`, model: 'openai/gpt-4.1-mini' }, 'ghp_x');
    expect(new URL(req.url, capture.url).pathname).toBe('/inference/chat/completions');
    expect(req.headers.authorization).toBe('Bearer ghp_x');
  });
});

describe('keys', () => {
  it('a key is only sent to the origin it was entered for', async () => {
    const key = bindKey('https://api.openai.com/v1', 'sk-openai');
    expect(keyForRequest(key, 'https://api.openai.com/v1/chat/completions')).toBe('sk-openai');
    expect(thrown(() => keyForRequest(key, 'https://api.openai.com.evil.example/v1')).code).toBe('key_origin_mismatch');
    expect(thrown(() => keyForRequest(key, 'http://api.openai.com/v1')).code).toBe('key_origin_mismatch');
    const before = capture.requests.length;
    const e = thrown(() => new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: capture.baseURL, model: 'm' }, key }));
    expect(e.code).toBe('key_origin_mismatch');
    expect(e.message).not.toContain('sk-openai');
    expect(capture.requests.length).toBe(before);
  });

  it('stay in memory unless remembered; remembered per origin', () => {
    const storage = new MemoryKeyStorage();
    const ring = new KeyRing(storage);
    ring.set('https://api.openai.com/v1', 'sk-mem', { remember: false });
    expect(ring.get('https://api.openai.com/v1')?.secret).toBe('sk-mem');
    expect(storage.items.size).toBe(0);
    expect(ring.isRemembered('https://api.openai.com/v1')).toBe(false);

    ring.set('http://localhost:11434/v1', 'ollama-key', { remember: true });
    expect(storage.items.get(storageKeyFor('http://localhost:11434'))).toBe('ollama-key');
    const reloaded = new KeyRing(storage);
    expect(reloaded.get('http://localhost:11434/api/other-path')).toEqual({ origin: 'http://localhost:11434', secret: 'ollama-key' });
    expect(reloaded.get('http://localhost:1234/v1')).toBeNull();
    expect(reloaded.get('https://api.openai.com/v1')).toBeNull();

    ring.set('http://localhost:11434/v1', 'ollama-key-2', { remember: false });
    expect(storage.items.size).toBe(0);
    ring.forget('http://localhost:11434/v1');
    expect(ring.get('http://localhost:11434/v1')).toBeNull();
  });

  it('work when storage throws (private mode)', () => {
    const broken: KeyStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const ring = new KeyRing(broken);
    ring.set('https://x.example', 'k', { remember: true });
    expect(ring.get('https://x.example')?.secret).toBe('k');
    expect(ring.isRemembered('https://x.example')).toBe(false);
    expect(new KeyRing(null).get('https://x.example')).toBeNull();
  });
});

describe('helpers', () => {
  it('parseRetryAfter reads ms, seconds and dates', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(parseRetryAfter(h({ 'retry-after': '3' }))).toBe(3000);
    expect(parseRetryAfter(h({ 'retry-after': '0.5' }))).toBe(500);
    expect(parseRetryAfter(h({ 'retry-after-ms': '250' }))).toBe(250);
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(h({}))).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('redact removes every copy of a secret', () => {
    expect(redact('a sk-1234 b sk-1234', ['sk-1234'])).toBe('a [redacted] b [redacted]');
    expect(redact('abc', [''])).toBe('abc');
  });

  it('buildChatRequest sends only what the endpoint understands', () => {
    const sampling = { ...DEFAULT_GENERATION, greedy: false, temperature: 0.8, topP: 0.95, topK: 50, repetitionPenalty: 1.2, minNewTokens: 10, maxNewTokens: 64 };
    const msgs = [{ role: 'user' as const, content: 'hi' }];
    expect(buildChatRequest('gpt', msgs, sampling, PRESETS.openai)).toEqual({
      model: 'gpt',
      messages: msgs,
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 64,
      temperature: 0.8,
      top_p: 0.95,
    });
    expect(buildChatRequest('m', msgs, sampling, PRESETS.vllm)).toMatchObject({ max_tokens: 64, top_k: 50, repetition_penalty: 1.2, min_tokens: 10 });
    const greedy = buildChatRequest('m', msgs, { ...sampling, greedy: true }, PRESETS.reference);
    expect(greedy.temperature).toBe(0);
    expect(greedy.top_p).toBeUndefined();
    expect(greedy.top_k).toBeUndefined();
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcdefgh')).toBe(2);
  });
});
