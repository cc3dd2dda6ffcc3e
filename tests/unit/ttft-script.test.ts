/** The TTFT-growth benchmark's conversation script (scripts/bench/ttft-script.ts) on real tokenizers. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANSWER_TOKENS, cutToTokens, SCRIPTED_ANSWERS, scriptFor, TURN_TOKENS, USER_TURNS } from '../../scripts/bench/ttft-script';

const words = (s: string) => s.split(' ').length;

describe('cutToTokens', () => {
  const byChars = (t: string) => t.length;
  it('keeps a text that fits and cuts one that does not at the last word that fits', () => {
    expect(cutToTokens('one two three', byChars, 13)).toBe('one two three');
    expect(cutToTokens('one two three', byChars, 12)).toBe('one two');
    expect(cutToTokens('one two three', byChars, 7)).toBe('one two');
    expect(cutToTokens('one two three', byChars, 6)).toBe('one');
  });
});

describe('scriptFor', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ttft-script-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('embedded models (512 positions): the short script', () => {
    const s = scriptFor('public/models/slm-pocket');
    expect(s.short).toBe(true);
    expect(s.answerTokens).toBe(12);
    expect(s.turns.every((t) => t.length === 24)).toBe(true);
  });

  it('a long context with the scale models’ tokenizer (the embedded one, padded): turns of at most 30 tokens, cut at words', () => {
    // A scale model folder as scripts/models-scale.ts writes it: 8192 positions, the pocket model's tokenizer.
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join('public/models/slm-pocket', f), path.join(tmp, f));
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ max_position_embeddings: 8192 }));
    const s = scriptFor(tmp);
    expect(s.short).toBe(false);
    expect(s.answerTokens).toBe(40);
    expect(s.turns).toHaveLength(8);
    s.turns.forEach((t, i) => {
      expect(USER_TURNS[i]!.startsWith(t)).toBe(true);
      expect(words(t)).toBeLessThan(words(USER_TURNS[i]!)); // this tokenizer reads the whole sentences in 60+ tokens
    });
    for (const n of s.turnTokens!) {
      expect(n).toBeLessThanOrEqual(TURN_TOKENS);
      expect(n).toBeGreaterThanOrEqual(TURN_TOKENS - 8);
    }
    expect(s.answers).toBeNull(); // a trained model: its own answers go into the history
    expect(s.prime).toBe(false);
  });

  it('a random-weight scale model: the history carries fixed answers of at most 40 tokens', () => {
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ max_position_embeddings: 8192, scale_model: { shape: 'ci', random_weights: true } }));
    const s = scriptFor(tmp);
    expect(s.answers).toHaveLength(8);
    s.answers!.forEach((a, i) => expect(SCRIPTED_ANSWERS[i]!.startsWith(a)).toBe(true));
    for (const n of s.scriptedAnswerTokens!) {
      expect(n).toBeLessThanOrEqual(ANSWER_TOKENS);
      expect(n).toBeGreaterThanOrEqual(ANSWER_TOKENS - 8);
    }
    expect(s.prime).toBe(true);
    expect(scriptFor(tmp, 'scripted').prime).toBe(false);
  });
});
