// Constrained decoding's core (src/inference/grammar.ts) on the real XGrammar (WebAssembly, loaded
// as in the reference server) over the embedded models' byte-level BPE and a padded tokenizer.json.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyBitmask, formatKey, GrammarCache, GrammarConstraint, GrammarError, vocabFromTokenizerJson, vocabKey, type TokenizerVocab } from '../../src/inference/grammar';
import { isEngineAbort, type XGrammarLib, type XGrammarLoader } from '../../src/inference/xgrammar';
import type { ResponseFormat } from '../../src/inference/response-format';
import { loadXGrammarNode } from '../../server/xgrammar-node';

const tokenizerJson: unknown = JSON.parse(fs.readFileSync('public/models/slm-pocket/tokenizer.json', 'utf8'));
const IM_END = 511;
const vocab = vocabFromTokenizerJson(tokenizerJson, { vocabSize: 512, stopTokenIds: [IM_END] });
const cache = new GrammarCache(vocab, { load: loadXGrammarNode });

/** Byte-level BPE token → its text (GPT-2's byte-to-unicode table, inverted). */
const byteDecoder = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) (bs.push(b), cs.push(256 + n++));
  return new Map(cs.map((c, i) => [String.fromCharCode(c), bs[i] ?? 0]));
})();
const text = (t: string) => Buffer.from([...t].map((ch) => byteDecoder.get(ch) ?? 0)).toString('latin1');

function allowed(c: GrammarConstraint, v: TokenizerVocab = vocab, size = v.vocabSize): number[] {
  const row = new Float32Array(size);
  c.apply(row);
  return [...row.keys()].filter((i) => row[i] === 0);
}
const tokensOf = (ids: number[]) => ids.map((i) => vocab.tokens[i]);
const idOf = (t: string) => vocab.tokens.indexOf(t);

async function constraint(f: ResponseFormat): Promise<GrammarConstraint> {
  const c = await cache.constraint(f);
  if (!c) throw new Error('no constraint');
  await c.prepare();
  return c;
}

describe('vocabulary from tokenizer.json', () => {
  it("reads the embedded models' byte-level BPE with its added tokens", () => {
    expect(vocab.vocabType).toBe('byte_level');
    expect(vocab.prependSpace).toBe(false);
    expect(vocab.tokens).toHaveLength(512);
    expect(vocab.tokens.slice(509)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(text('Ġ"')).toBe(' "');
  });
  it('reads a SentencePiece (byte-fallback) layout padded past the tokenizer, as Hugging Face writes it', () => {
    const sp = {
      model: { type: 'BPE', vocab: { '<unk>': 0, '<s>': 1, '</s>': 2, '<0x7B>': 3, '<0x7D>': 4, '▁': 5, '{': 6, '}': 7, '"': 8, a: 9, '▁{': 10, '":': 11 }, merges: [] },
      added_tokens: [{ id: 2, content: '</s>', special: true }],
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    };
    const v = vocabFromTokenizerJson(sp, { vocabSize: 64, stopTokenIds: [2] });
    expect(v).toMatchObject({ vocabType: 'byte_fallback', prependSpace: true, vocabSize: 64 });
    expect(v.tokens).toHaveLength(12);
  });
  it('keys the cache by vocabulary and by schema text', () => {
    expect(vocabKey(vocab)).toBe(vocabKey(vocabFromTokenizerJson(tokenizerJson, { vocabSize: 512, stopTokenIds: [IM_END] })));
    expect(vocabKey(vocab)).not.toBe(vocabKey({ ...vocab, vocabSize: 576 }));
    expect(formatKey({ type: 'json_schema', name: 'a', schema: { enum: [1] } })).not.toBe(formatKey({ type: 'json_schema', name: 'a', schema: { enum: [2] } }));
    expect(formatKey({ type: 'json_object' })).toBe('json_object');
  });
});

describe('masks over the embedded tokenizer (allowed sets checked by hand)', () => {
  beforeAll(async () => {
    await loadXGrammarNode();
  });

  it('an enum of "yes" / "no": each step allows exactly the tokens that continue one of them, then only end-of-sequence', async () => {
    const c = await constraint({ type: 'json_schema', name: 'yn', schema: { enum: ['yes', 'no'] } });
    // Of the tokens holding a quote ('"', '":', 'Ġ"', '",', '{"'), only '"' starts "yes" or "no".
    expect(tokensOf(allowed(c))).toEqual(['"']);
    const steps: [string, string[]][] = [
      ['"', ['n', 'y']],
      ['y', ['e', 'es']],
      ['es', ['"']],
      ['"', ['<|im_end|>']],
    ];
    let sofar = '';
    for (const [tok, next] of steps) {
      c.accept(idOf(tok));
      sofar += tok;
      await c.prepare();
      const ids = allowed(c);
      expect(tokensOf(ids)).toEqual(next);
      // The same set, derived independently: tokens whose text continues "yes" or "no" (quoted).
      if (next[0] !== '<|im_end|>') {
        const want = vocab.tokens.map((t, i) => [t, i] as const).filter(([t, i]) => i < 509 && ['"yes"', '"no"'].some((w) => w.startsWith(text(sofar) + text(t)) && t.length > 0)).map(([, i]) => i);
        expect(ids).toEqual(want);
      }
      expect(c.terminated).toBe(false);
    }
    c.accept(IM_END);
    expect(c.terminated).toBe(true);
    c.dispose();
  });

  it('JSON mode asks for an object: "{" or "{\\"" first, never "[" or a blank', async () => {
    const c = await constraint({ type: 'json_object' });
    expect(tokensOf(allowed(c))).toEqual(['{', '{"']);
    c.accept(idOf('{'));
    await c.prepare();
    // An empty object or a key; one-line JSON has no blank after "{". A key's text may hold ":" or
    // ",", so '":' and '",' (a key starting with that character) are allowed too.
    expect(tokensOf(allowed(c)).sort()).toEqual(['"', '",', '":', '}']);
    c.dispose();
  });

  it('a boolean property: after `{"a": ` only the starts of true and false', async () => {
    const c = await constraint({ type: 'json_schema', name: 'b', schema: { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] } });
    for (const t of ['{"', 'a', '":']) {
      c.accept(idOf(t));
      await c.prepare();
    }
    // The ", " / ": " separators: a blank, then t(rue) or f(alse); the vocabulary has 'Ġt' and 'Ġf' but no 'Ġtrue'.
    expect(tokensOf(allowed(c))).toEqual(['Ġ', 'Ġt', 'Ġf']);
    expect(() => c.accept(idOf('Ġ"'))).toThrow(/refused token/);
    c.dispose();
  });

  it('tryAccept: a refused token leaves the state as it was; padding ids are refused without asking XGrammar', async () => {
    const c = await constraint({ type: 'json_schema', name: 'yn', schema: { enum: ['yes', 'no'] } });
    expect(c.tryAccept(idOf('{'))).toBe(false);
    expect(c.tryAccept(600)).toBe(false);
    await c.prepare();
    expect(tokensOf(allowed(c))).toEqual(['"']);
    expect(c.tryAccept(idOf('"'))).toBe(true);
    await c.prepare();
    expect(tokensOf(allowed(c))).toEqual(['n', 'y']);
    c.dispose();
  });

  it('refuses to apply a mask that is not the current step\'s', async () => {
    const c = await constraint({ type: 'json_object' });
    c.accept(idOf('{'));
    expect(() => c.apply(new Float32Array(512))).toThrow(/not ready/);
    c.dispose();
  });
});

describe('a padded vocabulary (logits larger than the tokenizer)', () => {
  it('masks every padding id and keeps the tokenizer ids the grammar allows', async () => {
    const padded = vocabFromTokenizerJson(tokenizerJson, { vocabSize: 576, stopTokenIds: [IM_END] });
    expect(padded.vocabSize).toBe(576);
    const c = await new GrammarCache(padded, { load: loadXGrammarNode }).constraint({ type: 'json_object' });
    if (!c) throw new Error('no constraint');
    await c.prepare();
    const row = new Float32Array(600);
    c.apply(row);
    const ok = [...row.keys()].filter((i) => row[i] === 0);
    expect(ok.map((i) => padded.tokens[i])).toEqual(['{', '{"']);
    expect(row.subarray(512).every((x) => x === -Infinity)).toBe(true);
  });
});

describe('GrammarCache', () => {
  it('compiles a schema once: the second constraint is a cache hit', async () => {
    const c0 = new GrammarCache(vocab, { load: loadXGrammarNode });
    const f: ResponseFormat = { type: 'json_schema', name: 'p', schema: { type: 'object', properties: { n: { type: 'integer' } } } };
    (await c0.constraint(f))?.dispose();
    (await c0.constraint({ ...f, name: 'renamed' }))?.dispose();
    expect(c0.stats()).toMatchObject({ compiles: 1, hits: 1 });
    (await c0.constraint({ ...f, schema: { type: 'object', properties: { n: { type: 'number' } } } }))?.dispose();
    expect(c0.stats()).toMatchObject({ compiles: 2, hits: 1 });
    expect(await c0.constraint({ type: 'text' })).toBeNull();
    c0.dispose();
  });
  it('keeps at most maxEntries grammars', async () => {
    const c0 = new GrammarCache(vocab, { load: loadXGrammarNode, maxEntries: 1 });
    const f = (n: number) => ({ type: 'json_schema' as const, name: 'p', schema: { enum: [n] } });
    await c0.compile({ type: 'json_object' });
    const a = await c0.compile(f(1));
    const b = await c0.compile({ type: 'json_object' });
    expect([a.cached, b.cached]).toEqual([false, false]);
    expect((await c0.compile({ type: 'json_object' })).cached).toBe(true);
    c0.dispose();
  });
});

describe('applyBitmask', () => {
  /** The plain rule, bit by bit. */
  function naive(logits: Float32Array, mask: Int32Array, vocabSize: number): Float32Array {
    const out = Float32Array.from(logits);
    for (let i = 0; i < out.length; i++) {
      const allowed = i < vocabSize && i < mask.length * 32 && (((mask[i >> 5] ?? 0) >>> (i & 31)) & 1) === 1;
      if (!allowed) out[i] = -Infinity;
    }
    return out;
  }
  it('gives the plain rule for sparse masks, dense masks and padded rows', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const density of [0.002, 0.05, 0.5, 0.98, 1]) {
      for (const [size, vocab] of [[49152, 49152], [600, 512], [100, 100]] as const) {
        const mask = new Int32Array(Math.ceil(vocab / 32));
        for (let i = 0; i < vocab; i++) if (rnd() < density) mask[i >> 5]! |= 1 << (i & 31);
        const logits = Float32Array.from({ length: size }, () => rnd() * 20 - 10);
        const want = naive(logits, mask, vocab);
        applyBitmask(logits, mask, vocab);
        const firstDiff = want.findIndex((v, i) => !Object.is(v, logits[i]));
        expect(firstDiff, `density ${density}, ${size}/${vocab}`).toBe(-1);
      }
    }
  });
  it('costs little on a 49k vocabulary (timing printed, not asserted)', () => {
    const mask = new Int32Array(1536).fill(-1);
    mask[3] = 0;
    const logits = new Float32Array(49152);
    const t0 = performance.now();
    for (let k = 0; k < 200; k++) applyBitmask(logits, mask, 49152);
    console.log(`applyBitmask, 49,152 ids, dense mask: ${(((performance.now() - t0) / 200) * 1000).toFixed(1)} µs`);
  });
});

describe('after XGrammar aborts, the next request starts a fresh instance', () => {
  // Node's loader (a fresh instance is a fresh copy of the module); the worker's makes one from the
  // bundle's source (xgrammar.ts: instantiateXGrammar; tests/e2e/constrained-browser.test.ts).
  const made: { lib: XGrammarLib; fresh: boolean }[] = [];
  const load: XGrammarLoader = async (opts) => {
    const lib = await loadXGrammarNode(opts);
    if (made.at(-1)?.lib !== lib) made.push({ lib, fresh: opts?.fresh ?? false });
    return lib;
  };

  it('a schema the WebAssembly aborts on fails with a GrammarError; the next constraint works on a new instance', async () => {
    const c0 = new GrammarCache(vocab, { load });
    const person: ResponseFormat = { type: 'json_schema', name: 'p', schema: { type: 'object', properties: { n: { type: 'integer' } } } };
    (await c0.constraint(person))?.dispose();
    expect(made).toHaveLength(1);
    // An unresolved $ref: XGrammar's converter fails a CHECK and Emscripten aborts (checkResponseFormat refuses it before the worker or the server would compile it).
    const aborting: ResponseFormat = { type: 'json_schema', name: 'x', schema: { $ref: '#/definitions/x' } };
    const err = await c0.constraint(aborting).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(GrammarError);
    expect(String(err)).toMatch(/could not be compiled.*Aborted/);
    expect(made).toHaveLength(1);
    // The next request: a fresh instance, the cache emptied (the person schema is compiled again), a working mask.
    const c = await c0.constraint({ type: 'json_object' });
    if (!c) throw new Error('no constraint');
    await c.prepare();
    expect(tokensOf(allowed(c))).toEqual(['{', '{"']);
    c.dispose();
    expect(made.map((m) => m.fresh)).toEqual([false, true]);
    expect(made[1]?.lib).not.toBe(made[0]?.lib);
    (await c0.constraint(person))?.dispose();
    expect(c0.stats()).toMatchObject({ restarts: 1, compiles: 3, hits: 0 });
    c0.dispose();
  });

  it('isEngineAbort tells a WebAssembly abort from a grammar refusal', async () => {
    expect(isEngineAbort(new WebAssembly.RuntimeError('unreachable'))).toBe(true);
    expect(isEngineAbort(new Error('RuntimeError: Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isEngineAbort(new Error('The grammar refused token 3.'))).toBe(false);
  });
});
