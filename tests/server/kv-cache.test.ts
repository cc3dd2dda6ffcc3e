// The reference server's prefix cache (server/model.ts through src/inference/kv-cache.ts): eight
// scripted conversations at once (tests/kv-conversation.ts: follow-ups, a Stop mid-answer, an
// edited system prompt, New chat) answer exactly what a server without the cache answers, the
// reuse shows in `usage.prompt_tokens_details.cached_tokens` and at GET /v1/slm/stats, and a
// cancelled request leaves nothing broken behind (the turns after it still match).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../server/model';
import { runScript, type Msg } from '../kv-conversation';
import { getStats, MODELS_DIR, startTestServer, TEST_MODEL, type TestServer } from './helpers';
import { loadModel } from '../../server/start';

interface Answer {
  text: string;
  finish: string | null;
  cached: number | null;
  prompt: number | null;
}

/** One streamed chat completion; aborts after `stopAfter` content chunks (a Stop). */
async function ask(server: TestServer, messages: Msg[], stopAfter: number | null): Promise<Answer> {
  const ac = new AbortController();
  const res = await fetch(`${server.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: TEST_MODEL, messages, max_tokens: 30, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  const out: Answer = { text: '', finish: null, cached: null, prompt: null };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let chunks = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) !== -1) {
        const line = buf.slice(0, i).replace(/^data: /, '');
        buf = buf.slice(i + 2);
        if (line === '[DONE]') continue;
        const ev = JSON.parse(line) as {
          choices: { delta: { content?: string }; finish_reason: string | null }[];
          usage?: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } } | null;
        };
        const c = ev.choices[0];
        if (c?.delta.content) {
          out.text += c.delta.content;
          chunks++;
        }
        if (c?.finish_reason) out.finish = c.finish_reason;
        if (ev.usage) {
          out.cached = ev.usage.prompt_tokens_details.cached_tokens;
          out.prompt = ev.usage.prompt_tokens;
        }
        if (stopAfter !== null && chunks >= stopAfter) {
          ac.abort();
          return out;
        }
      }
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  }
  return out;
}

describe('reference server prefix cache', () => {
  let cachedModel: ChatModel;
  let plainModel: ChatModel;
  let cached: TestServer;
  let plain: TestServer;

  beforeAll(async () => {
    cachedModel = await loadModel({ modelsDir: MODELS_DIR, model: TEST_MODEL, dtype: 'fp32', threads: 1, kvCacheMb: 64 }, () => {});
    plainModel = await loadModel({ modelsDir: MODELS_DIR, model: TEST_MODEL, dtype: 'fp32', threads: 1, kvCacheMb: 0 }, () => {});
    cached = await startTestServer(cachedModel);
    plain = await startTestServer(plainModel);
  });
  afterAll(async () => {
    await cached?.close();
    await plain?.close();
    await cachedModel?.dispose();
    await plainModel?.dispose();
  });

  it('8 concurrent conversations answer exactly as without the cache', async () => {
    type Turn = { messages: Msg[]; stopAfter: number | null; answer: Answer };
    const logs: Turn[][] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        const log: Turn[] = [];
        logs.push(log);
        await runScript(async (messages, _turn, stopAfter) => {
          // Each conversation its own: the first user message names it.
          const own = messages.map((m, i) => (i === 1 ? { ...m, content: `Chat ${k + 1}. ${m.content}` } : m));
          const answer = await ask(cached, own, stopAfter);
          log.push({ messages: own, stopAfter, answer });
          return answer.text;
        });
      }),
    );
    let reusedTurns = 0;
    for (const log of logs) {
      expect(log).toHaveLength(8);
      for (const [t, turn] of log.entries()) {
        const want = await ask(plain, turn.messages, null);
        if (turn.stopAfter !== null) {
          expect(want.text.startsWith(turn.answer.text), `stopped turn ${t + 1}`).toBe(true);
          continue;
        }
        expect(turn.answer.text, `turn ${t + 1}`).toBe(want.text);
        expect(turn.answer.finish).toBe(want.finish);
        expect(want.cached).toBe(0);
        expect(turn.answer.prompt).toBe(want.prompt);
        if ((turn.answer.cached ?? 0) > 0) reusedTurns++;
      }
    }
    // Follow-ups reuse their conversation's state (turns 2, 4, 6, 8 at least, in every conversation).
    expect(reusedTurns).toBeGreaterThanOrEqual(8 * 4);
    const stats = await getStats(cached);
    expect(stats.kvCache.off).toBeNull();
    if (stats.kvCache.off === null) {
      expect(stats.kvCache.hits).toBeGreaterThanOrEqual(32);
      expect(stats.kvCache.entries).toBeLessThanOrEqual(stats.kvCache.maxEntries);
      expect(stats.kvCache.bytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      expect(stats.kvCache.reusedTokens).toBeGreaterThan(stats.kvCache.prefilledTokens);
    }
    expect(stats.data.some((d) => d.cachedTokens > 0)).toBe(true);
    const off = await getStats(plain);
    expect(off.kvCache).toEqual({ off: 'turned off (--kv-cache-mb 0)' });
  });
});
