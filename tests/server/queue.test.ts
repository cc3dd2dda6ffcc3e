// One model, one generation at a time: FIFO order, a bounded queue (429 + Retry-After), and a
// client that goes away frees the model at once.
import OpenAI, { RateLimitError } from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../server/model';
import { getStats, loadTestModel, PROMPT, startTestServer, TEST_MODEL, waitFor, type TestServer } from './helpers';

let model: ChatModel;

beforeAll(async () => {
  model = await loadTestModel();
});
afterAll(async () => {
  await model?.dispose();
});

/** A request that generates exactly `n` tokens (min_tokens is a server extension). */
function fixed(n: number): ChatCompletionCreateParamsStreaming & { min_tokens: number } {
  return { model: TEST_MODEL, messages: PROMPT, max_tokens: n, min_tokens: n, stream: true, stream_options: { include_usage: true } };
}

interface Observed {
  id: string;
  firstContentAt: number | null;
  endAt: number;
  tokens: number | null;
  finish: string | null;
}

async function consume(client: OpenAI, n: number, signal?: AbortSignal): Promise<Observed> {
  const stream = await client.chat.completions.create(fixed(n), signal ? { signal } : {});
  const o: Observed = { id: '', firstContentAt: null, endAt: 0, tokens: null, finish: null };
  for await (const c of stream) {
    o.id = c.id;
    if (c.choices[0]?.delta.content) o.firstContentAt ??= performance.now();
    o.finish = c.choices[0]?.finish_reason ?? o.finish;
    if (c.usage) o.tokens = c.usage.completion_tokens;
  }
  o.endAt = performance.now();
  return o;
}

describe('request queue', () => {
  let srv: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    srv = await startTestServer(model, { queueLimit: 8 });
    client = new OpenAI({ baseURL: srv.baseURL, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(async () => srv?.close());

  it('runs 4 concurrent streams one at a time, in arrival order, all complete', async () => {
    const lengths = [250, 60, 60, 60];
    const runs: Promise<Observed>[] = [];
    for (const [i, n] of lengths.entries()) {
      runs.push(consume(client, n));
      // Make the arrival order certain before sending the next one.
      if (i === 0) await waitFor('first request running', () => srv.queue.busy);
      else await waitFor(`${i} waiting`, () => srv.queue.waiting === i);
    }
    expect(srv.queue.waiting).toBe(3);
    const done = await Promise.all(runs);
    for (const [i, o] of done.entries()) {
      expect(o.finish).toBe('length');
      expect(o.tokens).toBe(lengths[i]);
    }
    // FIFO and no interleaving: each stream starts after the previous one ended.
    for (let i = 1; i < done.length; i++) {
      const prev = done[i - 1];
      const cur = done[i];
      expect(cur?.firstContentAt ?? 0).toBeGreaterThan(prev?.endAt ?? Infinity);
    }
    const stats = await getStats(srv);
    const order = stats.data.map((d) => d.id).filter((id) => done.some((o) => o.id === id));
    expect(order).toEqual(done.map((o) => o.id));
    const queued = done.map((o) => stats.data.find((d) => d.id === o.id)?.queuedMs ?? -1);
    for (let i = 1; i < queued.length; i++) expect(queued[i] ?? 0).toBeGreaterThan(queued[i - 1] ?? Infinity);
    expect(stats.queue).toEqual({ running: false, waiting: 0, limit: 8 });
  });

  it('a client that aborts mid-stream stops the generation and frees the model for the next request', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(fixed(450), { signal: controller.signal });
    let contentChunks = 0;
    let id = '';
    for await (const c of stream) {
      id = c.id;
      if (c.choices[0]?.delta.content) contentChunks++;
      if (contentChunks === 3) break; // leaving the loop aborts the request (the SDK cancels it)
    }
    const abortedAt = performance.now();
    await waitFor('the aborted request to be recorded', async () => (await getStats(srv)).data.some((d) => d.id === id));
    const t = (await getStats(srv)).data.find((d) => d.id === id);
    expect(t?.finishReason).toBe('abort');
    expect(t?.completionTokens).toBeLessThan(450);
    expect(srv.queue.busy).toBe(false);
    const next = await consume(client, 8);
    expect(next.tokens).toBe(8);
    // The next request did not wait for the rest of the 450 tokens.
    const nextStats = (await getStats(srv)).data.find((d) => d.id === next.id);
    expect(nextStats?.queuedMs).toBeLessThan(200);
    expect(next.endAt - abortedAt).toBeLessThan(5_000);
  });

  it('a client that leaves while queued never runs', async () => {
    const long = consume(client, 300);
    await waitFor('long request running', () => srv.queue.busy);
    const controller = new AbortController();
    const queued = consume(client, 300, controller.signal).catch((e: unknown) => e);
    await waitFor('one waiting', () => srv.queue.waiting === 1);
    controller.abort();
    await waitFor('queue emptied', () => srv.queue.waiting === 0);
    expect(await queued).toBeInstanceOf(Error);
    await long;
    const stats = await getStats(srv);
    expect(stats.data.at(-1)?.finishReason).toBe('length'); // the long one finished last
    expect(stats.data.some((d) => d.status === 499 && d.completionTokens === 0)).toBe(true);
  });
});

describe('queue limit', () => {
  it('answers 429 with Retry-After when the queue is full', async () => {
    const srv = await startTestServer(model, { queueLimit: 1 });
    const client = new OpenAI({ baseURL: srv.baseURL, apiKey: 'x', maxRetries: 0 });
    try {
      const a = consume(client, 250);
      await waitFor('A running', () => srv.queue.busy);
      const b = consume(client, 10);
      await waitFor('B waiting', () => srv.queue.waiting === 1);
      const e = await client.chat.completions.create(fixed(10)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RateLimitError);
      if (!(e instanceof RateLimitError)) throw e;
      expect(e.status).toBe(429);
      expect(e.code).toBe('queue_full');
      expect(Number(e.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.tokens).toBe(250);
      expect(rb.tokens).toBe(10);
    } finally {
      await srv.close();
    }
  });
});
