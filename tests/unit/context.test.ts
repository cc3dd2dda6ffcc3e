import { describe, expect, it } from 'vitest';
import { answerRoom, contextNotice, fitContext } from '../../src/inference/context';
import type { ChatMessage } from '../../src/engines/types';

// One "token" per character plus 2 per message (a template's role markers), like a real template's overhead.
const encode = (ms: ChatMessage[]) => Array.from({ length: ms.reduce((s, m) => s + m.content.length + 2, 0) }, (_, i) => i);
const msg = (role: ChatMessage['role'], n: number): ChatMessage => ({ role, content: 'x'.repeat(n) });

describe('answerRoom', () => {
  it('the requested maximum, at most a quarter of the context, at least 1', () => {
    expect(answerRoom(512, 64)).toBe(64);
    expect(answerRoom(512, 1000)).toBe(128);
    expect(answerRoom(2, 10)).toBe(1);
  });
});

describe('fitContext', () => {
  it('a conversation that fits is sent whole', () => {
    const ms = [msg('system', 8), msg('user', 10), msg('assistant', 10), msg('user', 10)];
    const r = fitContext(ms, encode, 100, 20);
    expect(r).toMatchObject({ ok: true, dropped: 0, messages: ms });
    expect(r.ok && r.ids.length).toBe(46);
  });
  it('drops the oldest turns (user + answer together), keeps the system message and the newest message', () => {
    const ms = [msg('system', 8), msg('user', 30), msg('assistant', 30), msg('user', 10), msg('assistant', 10), msg('user', 10)];
    const r = fitContext(ms, encode, 80, 20);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.dropped).toBe(2);
    expect(r.messages).toEqual([ms[0], ms[3], ms[4], ms[5]]);
    expect(r.ids.length + 20).toBeLessThanOrEqual(80);
  });
  it('drops an answer left without its question in the same step as the next turn starts', () => {
    // An assistant message first (a failed user turn was filtered out): it goes with the first cut.
    const ms = [msg('assistant', 40), msg('user', 5), msg('assistant', 5), msg('user', 5)];
    const r = fitContext(ms, encode, 40, 10);
    expect(r).toMatchObject({ ok: true, dropped: 1 });
  });
  it('refuses with the numbers when the newest message alone does not fit', () => {
    const r = fitContext([msg('system', 10), msg('user', 200)], encode, 128, 32);
    expect(r).toEqual({
      ok: false,
      promptTokens: 214,
      message: 'The newest message with the system prompt is 214 tokens, and the model reads at most 128 (32 kept for the answer). Shorten the message or the system prompt.',
    });
  });
});

describe('contextNotice', () => {
  it('null when nothing was dropped; says how many otherwise', () => {
    expect(contextNotice(0, 512)).toBeNull();
    expect(contextNotice(1, 512)).toMatch(/512-token context: the oldest 1 message was left out/);
    expect(contextNotice(4, 512)).toMatch(/oldest 4 messages were left out/);
  });
});
