import { describe, expect, it } from 'vitest';
import { lookupReport } from '../../src/inference/core';
import { KvPrefixCache, type KvPayloadOps } from '../../src/inference/kv-cache';
import { conversationChange, prefillNote, type LastConversation } from '../../src/inference/prefill-reason';

const sys = { role: 'system', content: 'Be brief.' };
const u1 = { role: 'user', content: 'Capital of France?' };
const a1 = { role: 'assistant', content: 'Paris.' };
const u2 = { role: 'user', content: 'And of Spain?' };
const last: LastConversation = { messages: [sys, u1], answer: 'Paris.', stopped: false };

describe('why a prompt reused less of the kept KV state', () => {
  it('names what changed in the conversation', () => {
    expect(conversationChange(null, [sys, u1])).toBe('first prompt since the model loaded');
    expect(conversationChange(last, [sys, u1, a1, u2])).toBeNull();
    expect(conversationChange(last, [{ role: 'system', content: 'Be long.' }, u1, a1, u2])).toBe('system prompt edited');
    expect(conversationChange(last, [u1, a1, u2])).toBe('system prompt added or removed');
    expect(conversationChange(last, [sys, u2])).toBe('new chat');
    expect(conversationChange({ ...last, messages: [sys, u1, a1, u2] }, [sys, { role: 'user', content: 'Capital of Italy?' }, a1, u2, a1, u2])).toBe('an earlier message was edited');
    expect(conversationChange({ ...last, stopped: true }, [sys, u1, a1, u2])).toBe('after Stop');
    expect(conversationChange({ ...last, stopped: true, answer: 'Par' }, [sys, u1, a1, u2])).toMatch(/^after Stop \(the stopped answer/);
  });

  it('says nothing when the prompt extended the kept state, and says why otherwise', () => {
    const ext = [sys, u1, a1, u2];
    expect(prefillNote({ computed: 8, reused: 30, kept: 30, note: null }, last, ext)).toBeNull();
    expect(prefillNote({ computed: 40, reused: 0, kept: 0, note: null }, null, [sys, u1])).toBe('prefilled whole: first prompt since the model loaded');
    expect(prefillNote({ computed: 40, reused: 0, kept: 0, note: 'q8: no KV cache (x)' }, last, ext)).toBe('q8: no KV cache (x)');
    expect(prefillNote({ computed: 30, reused: 4, kept: 30, note: null }, last, [{ role: 'system', content: 'Be long.' }, u1])).toBe('reused up to the change: system prompt edited');
    expect(prefillNote({ computed: 34, reused: 0, kept: 30, note: 'the kept state is on the GPU, where it cannot be cut to the 4 tokens shared with it' }, last, [sys, u2])).toBe(
      'prefilled whole: new chat; the kept state is on the GPU, where it cannot be cut to the 4 tokens shared with it',
    );
    // Messages that extend the last conversation but tokens that do not: the template's doing.
    expect(prefillNote({ computed: 12, reused: 26, kept: 30, note: null }, last, ext)).toMatch(/chat template wrote the last answer with other tokens/);
  });

  it('the cache reports a state it could not cut (WebGPU), and the core turns that into a note', () => {
    const ops: KvPayloadOps<string> = { bytes: () => 1, truncate: () => null, dispose: () => {}, immutable: false };
    const cache = new KvPrefixCache(ops, { maxBytes: 10, maxEntries: 1 });
    cache.put([1, 2, 3, 4, 5, 6], 'gpu-state');
    expect(cache.take([1, 2, 9, 9])).toBeNull();
    expect(cache.lastLookup).toEqual({ kept: 6, shared: 2, cutFailed: true });
    const report = lookupReport(4, 0, cache.lastLookup);
    expect(report).toMatchObject({ computed: 4, reused: 0, kept: 6 });
    expect(report.note).toMatch(/on the GPU, where it cannot be cut to the 2 tokens/);
    // Nothing kept now (generate() took the state): the next prompt is told so by the engine.
    expect(cache.take([1, 2, 9, 9])).toBeNull();
    expect(cache.lastLookup).toEqual({ kept: 0, shared: 0, cutFailed: false });
  });
});
