/**
 * The conversation of the TTFT-growth benchmark (ttft-growth.mjs) for a model folder: system
 * prompt, eight user turns, answer length, and the history's answers, sized in the model's own tokens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';

export interface ConversationScript {
  system: string;
  turns: string[];
  /** Tokens each answer is generated to (min = max). */
  answerTokens: number;
  /** The embedded models' short script (512 positions). */
  short: boolean;
  /** Tokens of each user turn (null: the short script, not counted). */
  turnTokens: number[] | null;
  /** The assistant turns the history carries; null: the model's own answers. */
  answers: string[] | null;
  scriptedAnswerTokens: number[] | null;
  /**
   * With `answers`: after each turn, an uncounted 1-token request whose history ends with the fixed
   * answer puts that answer into the kept KV state (where a trained model's own answer already is),
   * so the next turn prefills what it would with a trained model: the new user turn and the chat
   * template around it. False: the next turn prefills the answer too (an upper bound).
   */
  prime: boolean;
}

const SYSTEM = 'You are a helpful assistant. Answer the question in a few sentences, plainly and without lists.';
/** Eight user turns, cut to TURN_TOKENS tokens of the model's tokenizer (scriptFor). */
export const USER_TURNS: readonly string[] = [
  'I am planning a weekend trip to Paris in the spring with two friends. What are the three places we should not miss, and why?',
  'That sounds good. We also like food a lot. Which neighbourhood would you pick for a long dinner on the first evening, and why?',
  'On the second day we want to walk a lot. Can you suggest a route along the river that starts near a museum and ends at a park?',
  'One of my friends does not like crowds at all. Which of the places you named are quieter early in the morning on a weekday?',
  'We will arrive by train from London. How long does the trip take, and what is the easiest way to get from the station to the hotel?',
  'Our budget for the weekend is limited. What are some free things to do in the city that are still worth the time of a visitor?',
  'If it rains on Sunday, which indoor places would you recommend for an afternoon, apart from the big museums everybody visits?',
  'Thanks for all of this. Can you now sum up the plan for the two days in a short paragraph that I can send to my friends?',
];
/**
 * The assistant turns a scale model's conversation carries (cut to ANSWER_TOKENS tokens). A
 * random-weight model's own answer does not survive the text round trip a chat makes: its 40 ids
 * are mostly the padded vocabulary's `<unused_N>` entries, which decode to their literal names and
 * re-tokenize byte by byte. Measured at the CI shape (2026-11-30): prompts grew 77 → 635 → 1191 …
 * 3807 tokens over the 8 turns, ~550 a turn for 40-token answers, and the next prompt shared no
 * token of the answer with the kept state, so every turn prefilled ~550 new tokens (TTFT 0.2 s at
 * turn 1, 2.4–3.8 s after, reuse on; load ~18). A trained model's answer re-tokenizes to (nearly)
 * its own ids and is reused; here the history gets a fixed answer of real text instead, which the
 * next turn prefills as new tokens: the model still generates its 40 tokens each turn, and the
 * figure is an upper bound for a trained model (its answer's tokens would be reused) unless
 * `prime` puts the fixed answer into the kept state first (ConversationScript.prime).
 */
export const SCRIPTED_ANSWERS: readonly string[] = [
  'Start with the Louvre for its collection, walk up to Montmartre for the view over the city, and end at the Eiffel Tower at dusk when the lights come on.',
  'Pick the Marais for the first evening: small streets, old squares and many places that serve long dinners without hurrying anyone out of the door.',
  'Begin at the Orsay museum, follow the left bank past the book stalls to Notre-Dame, cross the islands, and finish in the Jardin des Plantes.',
  'Montmartre and the river banks are calm before nine on a weekday, and the big museums are quiet in the first hour after they open their doors.',
  'The train from London takes a little over two hours. From the station, the metro or a taxi gets you to most hotels in under half an hour.',
  'Walking along the river is free, and so are the parks, the churches and the big markets; several city museums also charge nothing for their permanent rooms.',
  'Try the covered passages near the Grand Boulevards, a small museum such as the one about the history of the city, or a long lunch in a quiet cafe.',
  'Saturday: the Louvre, a walk through the Marais and dinner there. Sunday: the river, the islands, a park, and the tower in the evening before the train home.',
];
export const ANSWER_TOKENS = 40;

/**
 * The user turn: ~30 tokens. A real SmolLM2 tokenizer reads the sentences above in ~30; the
 * scale models carry the embedded 512-token byte-level vocabulary (padded to 49152 ids), which
 * reads them in 62–78 (measured), so they are cut at a word boundary to at most this many.
 */
export const TURN_TOKENS = 30;

/** The longest word-boundary prefix of `text` with at most `max` tokens. */
export function cutToTokens(text: string, count: (t: string) => number, max: number): string {
  if (count(text) <= max) return text;
  const words = text.split(' ');
  let lo = 1;
  let hi = words.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(words.slice(0, mid).join(' ')) <= max) lo = mid;
    else hi = mid - 1;
  }
  return words.slice(0, lo).join(' ');
}

/**
 * The script for the model in `dir`: user turns of ≤ TURN_TOKENS tokens and 40-token answers where
 * the context holds them (1024+ positions), the history carrying SCRIPTED_ANSWERS for a
 * random-weight scale model (`answers`; null: the model's own answers); the embedded models read at most 512 tokens of a
 * ~1-character-a-token vocabulary, so there the system prompt is one line, turns are cut to 24
 * characters and answers to 12 tokens (`short`, said in the result).
 */
export function scriptFor(dir: string, history: 'primed' | 'scripted' = 'primed'): ConversationScript {
  let ctx: number | null = null;
  let scaleModel = false;
  try {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { max_position_embeddings?: number; scale_model?: { random_weights?: boolean } };
    ctx = config.max_position_embeddings ?? null;
    scaleModel = config.scale_model?.random_weights === true;
  } catch {
    // unknown: the full script
  }
  const short = ctx !== null && ctx < 1024;
  if (short) return { system: 'Answer briefly.', turns: USER_TURNS.map((t) => t.slice(0, 24)), answerTokens: 12, short, turnTokens: null, answers: null, scriptedAnswerTokens: null, prime: false };
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as object;
  const tok = new PreTrainedTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
  const count = (t: string) => tok.encode(t, { add_special_tokens: false }).length;
  const turns = USER_TURNS.map((t) => cutToTokens(t, count, TURN_TOKENS));
  const answers = scaleModel ? SCRIPTED_ANSWERS.map((t) => cutToTokens(t, count, ANSWER_TOKENS)) : null;
  return { system: SYSTEM, turns, answerTokens: ANSWER_TOKENS, short, turnTokens: turns.map(count), answers, scriptedAnswerTokens: answers?.map(count) ?? null, prime: answers !== null && history === 'primed' };
}

