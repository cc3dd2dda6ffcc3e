// The hosted engine's clock over real HTTP: TTFT starts at generate() (what runs before the request
// counts), and a chunk is stamped when the network read that carried it arrived, not when the SDK
// parsed it (src/engines/hosted/arrival.ts).
import { describe, expect, it } from 'vitest';
import { arrivalOf, notifyOnFetch, timedFetch } from '../../src/engines/hosted/arrival';
import { HostedEngine } from '../../src/engines/hosted/HostedEngine';
import { DEFAULT_GENERATION, type StreamChunk } from '../../src/engines/types';
import { chunk, openSse, sendJson, sse, fakeServersPerTest, type FakeServer, type Handler } from './fake-server';

const serve = fakeServersPerTest();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const request = (onChunk?: (c: StreamChunk) => void) => ({ messages: [{ role: 'user' as const, content: 'Hi' }], params: DEFAULT_GENERATION, ...(onChunk ? { onChunk } : {}) });

/** Role chunk, then `groups` of content pieces: each group in one write, `gapMs` apart; then finish. */
function grouped(groups: string[][], gapMs: number): Handler {
  return async (_req, res) => {
    openSse(res);
    sse(res, { ...chunk(null), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const g of groups) {
      await sleep(gapMs);
      res.write(g.map((p) => `data: ${JSON.stringify(chunk(p))}\n\n`).join(''));
    }
    sse(res, chunk(null, 'stop'));
    sse(res, '[DONE]');
    res.end();
  };
}

describe('timedFetch', () => {
  it('notes when each read of the body arrived', async () => {
    const s = await serve(grouped([['a'], ['b']], 80));
    const res = await timedFetch()(`${s.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
    const clock = arrivalOf(res);
    expect(clock).not.toBeNull();
    expect(clock?.last).toBeNull();
    const reader = res.body!.getReader();
    const times: number[] = [];
    for (;;) {
      const asked = performance.now();
      const { done } = await reader.read();
      if (done) break;
      const got = performance.now();
      const at = clock?.last ?? NaN;
      expect(at).toBeGreaterThanOrEqual(asked);
      expect(at).toBeLessThanOrEqual(got);
      times.push(at);
    }
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(100);
  });

  it('returns a failed response untouched, and a cancelled body closes the connection', async () => {
    const missing = await serve((_req, res) => sendJson(res, 404, { error: { message: 'no such thing' } }));
    const res = await timedFetch()(`${missing.baseURL}/x`);
    expect(res.status).toBe(404);
    expect(arrivalOf(res)).toBeNull();
    expect(await res.json()).toEqual({ error: { message: 'no such thing' } });

    const endless = await serve(async (_req, res) => {
      openSse(res);
      for (let i = 0; i < 200 && !res.destroyed; i++) {
        sse(res, chunk('x'));
        await sleep(20);
      }
      res.end();
    });
    const r = await timedFetch()(`${endless.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
    const reader = r.body!.getReader();
    await reader.read();
    await reader.cancel();
    await Promise.race([endless.requests[0]!.closed, sleep(3000).then(() => Promise.reject(new Error('the server kept writing after cancel')))]);
  });

  it("notifyOnFetch: calls back right after the fetch() call, before its response; the browser's fetch never sees the key", async () => {
    const log: string[] = [];
    let seen: RequestInit | undefined;
    const inner: typeof fetch = async (_input, init) => {
      seen = init;
      log.push('fetch() called');
      await sleep(30);
      log.push('response');
      return new Response('data: [DONE]\n\n', { status: 200 });
    };
    const { fetchOptions } = notifyOnFetch(() => log.push('sent'));
    const res = await timedFetch(inner)('http://x/chat/completions', { method: 'POST', body: '{}', ...fetchOptions });
    expect(log).toEqual(['fetch() called', 'sent', 'response']);
    expect(Object.keys(seen ?? {}).sort()).toEqual(['body', 'method']);
    expect(res.status).toBe(200);
    expect(notifyOnFetch(undefined)).toEqual({});
  });
});

describe('HostedEngine clock', () => {
  it('stamps chunks by the network read that carried them', async () => {
    // Two pieces in one write share a read, so they share a time; the next write comes 120 ms later.
    const s = await serve(grouped([['Hel', 'lo'], [' world']], 120));
    const engine = new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: s.baseURL, model: 'fake-model' } });
    const chunks: StreamChunk[] = [];
    const r = await engine.generate(request((c) => chunks.push({ ...c })));
    expect(r.text).toBe('Hello world');
    expect(chunks.map((c) => c.text)).toEqual(['Hel', 'lo', ' world']);
    expect(chunks[1]!.at).toBe(chunks[0]!.at);
    expect(chunks[2]!.at - chunks[1]!.at).toBeGreaterThanOrEqual(100);
  });

  it('TTFT starts at generate(): learning the model name first is part of it', async () => {
    const s = await serve(async (req, res) => {
      if (req.url?.endsWith('/models')) {
        await sleep(250);
        sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 1, owned_by: 'x' }] });
        return;
      }
      grouped([['ok']], 0)(req, res, s.requests.at(-1)!);
    });
    const engine = new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: s.baseURL, model: '' } });
    const t0 = performance.now();
    const r = await engine.generate(request());
    expect(r.text).toBe('ok');
    expect(r.metrics.ttftMs).toBeGreaterThanOrEqual(240);
    expect(r.metrics.ttftMs).toBeLessThanOrEqual(performance.now() - t0);
  });

  it('onSent: once, when the chat request leaves (after the model list it first needed), before the first chunk', async () => {
    const s = await serve(async (req, res) => {
      if (req.url?.endsWith('/models')) {
        sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 1, owned_by: 'x' }] });
        return;
      }
      grouped([['ok']], 20)(req, res, s.requests.at(-1)!);
    });
    const engine = new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: s.baseURL, model: '' } });
    const log: string[] = [];
    const r = await engine.generate({ ...request((c) => log.push(`chunk ${c.text}`)), onSent: () => log.push(`sent (${s.requests.length} requests served: the model list)`) });
    expect(r.text).toBe('ok');
    expect(log).toEqual(['sent (1 requests served: the model list)', 'chunk ok']);

    // A request that fails before it leaves (no model listed) reports nothing.
    const empty = await serve((_req, res) => sendJson(res, 200, { object: 'list', data: [] }));
    const sent: string[] = [];
    await expect(new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: empty.baseURL, model: '' } }).generate({ ...request(), onSent: () => sent.push('sent') })).rejects.toThrow(/lists no models/);
    expect(sent).toEqual([]);
  });

  it('preload() sends no request, and the next generate() uses the client it built', async () => {
    const s = await serve(grouped([['ok']], 0));
    const engine = new HostedEngine({ endpoint: { presetId: 'custom', baseUrl: s.baseURL, model: 'fake-model' } });
    engine.preload();
    await sleep(200);
    expect(s.requests).toHaveLength(0);
    const r = await engine.generate(request());
    expect(r.text).toBe('ok');
    expect(s.requests).toHaveLength(1);
  });
});
