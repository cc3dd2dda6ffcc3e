// HostedEngine against the real reference server (pocket model): streaming, the timing record,
// usage-based counts, model discovery, abort, keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostedEngine } from '../../src/engines/hosted/HostedEngine';
import { HostedError } from '../../src/engines/hosted/errors';
import { bindKey } from '../../src/engines/hosted/keys';
import { DEFAULT_GENERATION, type StreamChunk } from '../../src/engines/types';
import type { ChatModel } from '../../server/model';
import { getStats, loadTestModel, startTestServer, TEST_MODEL, waitFor, type TestServer } from '../server/helpers';

let model: ChatModel;
let srv: TestServer;

beforeAll(async () => {
  model = await loadTestModel();
  srv = await startTestServer(model);
});
afterAll(async () => {
  await srv?.close();
  await model?.dispose();
});

const messages = [{ role: 'user' as const, content: 'Hello, who are you?' }];
const fixed = (n: number) => ({ ...DEFAULT_GENERATION, greedy: true, maxNewTokens: n, minNewTokens: n });

describe('HostedEngine ↔ reference server', () => {
  it('streams chunks and fills the timing record from usage', async () => {
    const engine = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: srv.baseURL, model: TEST_MODEL } });
    expect(engine.kind).toBe('hosted');
    const chunks: StreamChunk[] = [];
    const t0 = performance.now();
    // 300 tokens: the pocket model streams ~2,000 tokens/s, and a decode rate needs ≥ 50 ms between
    // the first and last chunk (metrics/timing.ts); 40 tokens (20 ms) gave "—" on a quiet machine.
    const r = await engine.generate({ messages, params: fixed(300), onChunk: (c) => chunks.push(c) });
    expect(r.finishReason).toBe('length');
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.text.length > 0 && c.tokens === 1 && c.at >= t0)).toBe(true);
    expect(r.text).toBe(chunks.map((c) => c.text).join(''));
    const m = r.metrics;
    expect(m).toMatchObject({
      engine: 'hosted',
      model: TEST_MODEL,
      device: new URL(srv.url).host,
      dtype: null,
      threads: null,
      crossOriginIsolated: null,
      tokenCountSource: 'usage',
      outputTokens: 300,
      prefillTps: null,
      engineDecodeTps: null,
    });
    expect(m.inputTokens).toBeGreaterThan(5);
    expect(m.ttftMs).toBeGreaterThan(0);
    expect(m.decodeTps).toBeGreaterThan(0);
    expect(m.e2eMs).toBeGreaterThanOrEqual(m.ttftMs ?? Infinity);
    // Client overhead is measurable: the server's first byte came before the client saw it.
    const t = (await getStats(srv)).data.find((d) => d.id === engine.lastCompletionId);
    expect(t?.firstByteMs).toBeGreaterThan(0);
    expect(m.ttftMs).toBeGreaterThanOrEqual(t?.firstByteMs ?? Infinity);
  });

  it('greedy output equals the non-streamed answer of the same server', async () => {
    const engine = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: srv.baseURL, model: TEST_MODEL } });
    const r = await engine.generate({ messages, params: { ...DEFAULT_GENERATION, greedy: true, maxNewTokens: 24 } });
    const res = await fetch(`${srv.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: TEST_MODEL, messages, max_tokens: 24, temperature: 0 }),
    });
    const body: { choices: { message: { content: string } }[] } = await res.json();
    expect(r.text).toBe(body.choices[0]?.message.content);
  });

  it("lists models, and with model '' uses the first one listed", async () => {
    const engine = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: srv.baseURL, model: '' } });
    expect(await engine.listModels()).toEqual([TEST_MODEL]);
    const r = await engine.generate({ messages, params: fixed(3) });
    expect(r.metrics.model).toBe(TEST_MODEL);
    expect(engine.label).toContain(TEST_MODEL);
  });

  it('an unknown model → not_found', async () => {
    const engine = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: srv.baseURL, model: 'nope' } });
    const e = await engine.generate({ messages, params: fixed(3) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostedError);
    expect(e instanceof HostedError && e.code).toBe('not_found');
  });

  it('abort stops the server-side generation too', async () => {
    const engine = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: srv.baseURL, model: TEST_MODEL } });
    const controller = new AbortController();
    let n = 0;
    const r = await engine.generate({
      messages,
      params: fixed(450),
      signal: controller.signal,
      onChunk: () => {
        if (++n === 3) controller.abort();
      },
    });
    expect(r.finishReason).toBe('abort');
    expect(r.metrics.tokenCountSource).toBe('estimated');
    const id = engine.lastCompletionId;
    await waitFor('server to record the abort', async () => (await getStats(srv)).data.some((d) => d.id === id));
    const t = (await getStats(srv)).data.find((d) => d.id === id);
    expect(t?.finishReason).toBe('abort');
    expect(t?.completionTokens).toBeLessThan(450);
  });

  it('with an API key: the right key works, a wrong one is unauthorized and never shown', async () => {
    const KEY = 'sk-ref-key-0000111122223333';
    const keyed = await startTestServer(model, { apiKey: KEY });
    try {
      const ok = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: keyed.baseURL, model: TEST_MODEL }, key: bindKey(keyed.baseURL, KEY) });
      expect((await ok.generate({ messages, params: fixed(2) })).metrics.outputTokens).toBe(2);
      const WRONG = 'sk-wrong-key-999988887777';
      const bad = new HostedEngine({ endpoint: { presetId: 'reference', baseUrl: keyed.baseURL, model: TEST_MODEL }, key: bindKey(keyed.baseURL, WRONG) });
      const e = await bad.generate({ messages, params: fixed(2) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostedError);
      if (!(e instanceof HostedError)) throw e;
      expect(e.code).toBe('unauthorized');
      expect(`${e.message} ${JSON.stringify(e)} ${e.stack}`).not.toContain(WRONG);
      expect(keyed.logs.join('\n')).not.toMatch(/sk-(ref|wrong)-key/);
    } finally {
      await keyed.close();
    }
  });
});
