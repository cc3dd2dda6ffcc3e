import { describe, expect, it } from 'vitest';
import { BatchingStream, IncrementalDecoder, type Decode } from '../../src/inference/streamer';

/** Byte-level tokenizer: token id = one UTF-8 byte; decoding replaces incomplete sequences with U+FFFD. */
const byteDecode: Decode = (ids) => new TextDecoder().decode(Uint8Array.from(ids));
const bytesOf = (s: string) => [...new TextEncoder().encode(s)];

function streamAll(ids: number[], decode: Decode = byteDecode): string[] {
  const d = new IncrementalDecoder(decode);
  return ids.map((id) => d.push(id));
}

describe('IncrementalDecoder', () => {
  it('ASCII: one character per token', () => {
    expect(streamAll(bytesOf('Hello'))).toEqual(['H', 'e', 'l', 'l', 'o']);
  });

  it('a two-byte character split over two tokens is emitted once, when complete', () => {
    // "é" = C3 A9
    expect(streamAll(bytesOf('aéb'))).toEqual(['a', '', 'é', 'b']);
  });

  it('three- and four-byte characters are held back until their last byte', () => {
    expect(streamAll(bytesOf('€'))).toEqual(['', '', '€']);
    expect(streamAll(bytesOf('😀'))).toEqual(['', '', '', '😀']);
    expect(streamAll(bytesOf('x€😀y'))).toEqual(['x', '', '', '€', '', '', '', '😀', 'y']);
  });

  it('consecutive multi-byte characters', () => {
    expect(streamAll(bytesOf('€€')).filter(Boolean)).toEqual(['€', '€']);
    expect(streamAll(bytesOf('日本語')).filter(Boolean)).toEqual(['日', '本', '語']);
  });

  it('never emits U+FFFD for valid UTF-8 and the deltas add up to the full decode', () => {
    const texts = ['', 'plain ascii', 'naïve café', 'Grüße, 世界! 👋🏽 ok', '🇩🇪🇫🇷', 'a\u0301e\u0301', 'mixed 1€ 2£ 3¥ 😀😀😀 end'];
    for (const t of texts) {
      const ids = bytesOf(t);
      const deltas = streamAll(ids);
      for (const d of deltas) expect(d).not.toContain('\uFFFD');
      expect(deltas.join('')).toBe(byteDecode(ids));
      expect(deltas.join('')).toBe(t);
    }
  });

  it('random UTF-8 strings round-trip (seeded)', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['a', 'Z', ' ', '\n', 'é', 'ß', '€', '中', '😀', '🚀', 'ع', 'ॐ'];
    for (let n = 0; n < 200; n++) {
      let s = '';
      const len = Math.floor(rand() * 30);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)] ?? '';
      const deltas = streamAll(bytesOf(s));
      expect(deltas.join('')).toBe(s);
      expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
    }
  });

  it('context-dependent decoding (SentencePiece leading space) comes out right', () => {
    // Word pieces "▁x" decode to " x", except that a leading space of the whole text is stripped.
    const vocab = ['▁Hello', '▁world', ',', '▁how', '▁are', '▁you', '?'];
    const spDecode: Decode = (ids) =>
      ids
        .map((i) => vocab[i] ?? '')
        .join('')
        .replaceAll('▁', ' ')
        .replace(/^ /, '');
    const ids = [0, 1, 2, 3, 4, 5, 6];
    const deltas = streamAll(ids, spDecode);
    expect(deltas).toEqual(['Hello', ' world', ',', ' how', ' are', ' you', '?']);
    expect(deltas.join('')).toBe(spDecode(ids));
  });

  it('tokens that decode to nothing (special tokens skipped) emit nothing and break nothing', () => {
    const SPECIAL = 999;
    const decode: Decode = (ids) => byteDecode(ids.filter((i) => i !== SPECIAL));
    const ids = [...bytesOf('hi'), SPECIAL, ...bytesOf('é'), SPECIAL];
    const deltas = streamAll(ids, decode);
    expect(deltas).toEqual(['h', 'i', '', '', 'é', '']);
    expect(deltas.join('')).toBe(decode(ids));
  });

  it('an invalid byte is eventually emitted (as U+FFFD) once followed by text', () => {
    const deltas = streamAll([0x61, 0x80, 0x62]);
    expect(deltas[0]).toBe('a');
    expect(deltas[1]).toBe('');
    expect(deltas.join('')).toBe(byteDecode([0x61, 0x80, 0x62]));
  });

  it('decodes a short window, not the whole output, per token', () => {
    let longest = 0;
    let calls = 0;
    const spy: Decode = (ids) => {
      calls++;
      longest = Math.max(longest, ids.length);
      return byteDecode(ids);
    };
    const ids = bytesOf('a'.repeat(1000) + '😀'.repeat(50));
    const deltas = streamAll(ids, spy);
    expect(deltas.join('')).toBe('a'.repeat(1000) + '😀'.repeat(50));
    expect(calls).toBeLessThanOrEqual(2 * ids.length);
    // A 4-byte character plus the previous one fit in 8 ids.
    expect(longest).toBeLessThanOrEqual(8);
  });

  it('keeps every pushed id', () => {
    const d = new IncrementalDecoder(byteDecode);
    const ids = bytesOf('a€');
    for (const id of ids) d.push(id);
    expect([...d.tokenIds]).toEqual(ids);
  });
});

/**
 * A controllable clock, a sink that records every message, and a tokenizer whose every token is
 * one of the strings the test adds (`add('Hi')` adds a token that decodes to 'Hi'). `decodes`
 * counts tokenizer calls.
 */
function harness(intervalMs: number) {
  let t = 0;
  const vocab: string[] = [];
  const counter = { decodes: 0 };
  const decoder = new IncrementalDecoder((ids) => {
    counter.decodes++;
    return ids.map((i) => vocab[i] ?? '').join('');
  });
  const sent: { text: string; tokens: number; at: number }[] = [];
  const stream = new BatchingStream(decoder, (text, tokens) => sent.push({ text, tokens, at: t }), intervalMs, () => t);
  const add = (text: string) => stream.add(vocab.push(text) - 1);
  return {
    stream,
    sent,
    counter,
    at(ms: number) {
      t = ms;
      return { add, flush: (at?: number) => stream.flush(at) };
    },
  };
}

describe('BatchingStream', () => {
  it('decodes once per message, not once per token, after the first text', () => {
    const h = harness(16);
    h.at(0).add('Hi');
    const before = h.counter.decodes;
    for (let i = 1; i <= 30; i++) h.at(i * 0.5).add(' w');
    expect(h.counter.decodes).toBe(before);
    h.at(16).add('!');
    // one push of 31 ids: at most two tokenizer calls (prefix and window)
    expect(h.counter.decodes - before).toBeLessThanOrEqual(2);
    expect(h.sent.map((m) => m.text).join('')).toBe('Hi' + ' w'.repeat(30) + '!');
    expect(h.sent.at(-1)?.tokens).toBe(31);
  });

  it('sends the first text at once, then at most once per interval, and the rest on flush', () => {
    const h = harness(16);
    h.at(0).add('Hi');
    expect(h.sent).toEqual([{ text: 'Hi', tokens: 1, at: 0 }]);
    h.at(5).add(' there');
    h.at(10).add('!');
    expect(h.sent).toHaveLength(1);
    h.at(16).add(' x');
    expect(h.sent[1]).toEqual({ text: ' there! x', tokens: 3, at: 16 });
    h.at(20).add('y');
    h.at(31).add('z');
    expect(h.sent).toHaveLength(2);
    h.stream.flush();
    expect(h.sent[2]).toEqual({ text: 'yz', tokens: 2, at: 31 });
    expect(h.sent.reduce((n, m) => n + m.tokens, 0)).toBe(6);
    expect(h.sent.map((m) => m.text).join('')).toBe('Hi there! xyz');
  });

  it('flush with nothing pending sends nothing', () => {
    const h = harness(16);
    h.stream.flush();
    expect(h.sent).toEqual([]);
    h.at(0).add('a');
    h.stream.flush();
    h.stream.flush();
    expect(h.sent).toHaveLength(1);
  });

  it('the interval counts from the last flush, including an explicit one', () => {
    const h = harness(100);
    h.at(0).add('a');
    h.at(50).add('b');
    h.stream.flush(); // at 50
    h.at(120).add('c'); // only 70 ms after the flush
    expect(h.sent.map((m) => m.text)).toEqual(['a', 'b']);
    h.at(150).add('d');
    expect(h.sent.map((m) => m.text)).toEqual(['a', 'b', 'cd']);
  });

  it('flush(t) records the given time', () => {
    const h = harness(100);
    h.at(0).add('a');
    h.at(10).add('b');
    h.stream.flush(500);
    h.at(550).add('c');
    expect(h.sent.map((m) => m.text)).toEqual(['a', 'b']);
    h.at(600).add('d');
    expect(h.sent.map((m) => m.text)).toEqual(['a', 'b', 'cd']);
  });

  it('tokens that complete no text are counted and carried with the next text', () => {
    const h = harness(16);
    h.at(0).add('A');
    h.at(1).add('');
    h.at(2).add('');
    h.at(3).add('é');
    h.at(40).add('');
    expect(h.sent).toEqual([
      { text: 'A', tokens: 1, at: 0 },
      { text: 'é', tokens: 4, at: 40 },
    ]);
  });

  it('the first visible text is sent at once even after empty leading tokens', () => {
    const h = harness(1000);
    h.at(0).add('');
    h.at(1).add('');
    h.at(2).add('H');
    expect(h.sent.at(-1)).toMatchObject({ text: 'H', at: 2 });
    expect(h.sent.reduce((n, m) => n + m.tokens, 0)).toBe(3);
    // After that, batching applies.
    h.at(3).add('i');
    expect(h.sent.at(-1)?.text).toBe('H');
  });

  it('interval 0 sends every token on its own', () => {
    const h = harness(0);
    for (const [i, c] of ['a', 'b', 'c'].entries()) h.at(i).add(c);
    expect(h.sent.map((m) => [m.text, m.tokens])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
  });

  it('token counts add up over a long run', () => {
    const h = harness(16);
    const dec = new IncrementalDecoder(byteDecode);
    const text = 'Streaming 😀 text with ünïcödé, batched per frame. '.repeat(20);
    const ids = bytesOf(text);
    ids.forEach((id, i) => h.at(i * 0.7).add(dec.push(id)));
    h.stream.flush();
    expect(h.sent.reduce((n, m) => n + m.tokens, 0)).toBe(ids.length);
    expect(h.sent.map((m) => m.text).join('')).toBe(text);
    // Messages after the first are at least an interval apart (except the final flush).
    const times = h.sent.slice(1, -1).map((m) => m.at);
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(16);
    expect(h.sent.length).toBeLessThan(ids.length / 10);
  });
});
