/**
 * parity.json of an embedded model, read at test time (the model may be retrained and re-committed
 * while the tests evolve, so no answer is hard-coded here). It is read from the models folder of
 * the app build under test (global setup's snapshot of public/models), so the expected ids always
 * belong to the weights the browser loads, even if public/models changes during the run.
 *
 * parity.json holds the PyTorch greedy continuation of each prompt, `output_ids`, INCLUDING the
 * end-of-sequence token when generation stopped on it (e.g. [54, 54, 511] for "66"), and fewer
 * than `max_new_tokens` ids in that case. The app's engine reports `outputTokenIds` WITHOUT a
 * trailing EOS and says why it stopped in `finishReason`. The tests compare like with like:
 * `expectedRun()` strips one trailing EOS and turns it into finishReason 'stop' (else 'length').
 */
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

export interface ParityMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
export interface ParityCase {
  messages: ParityMessage[];
  input_ids: number[];
  output_ids: number[];
  text: string;
}
export interface Parity {
  model: string;
  max_new_tokens: number;
  eos_token_id: number | number[];
  cases: ParityCase[];
}

/** The built app's models folder (a snapshot of public/models taken by the global setup). */
export function modelsDir(): string {
  return inject('modelsDir');
}

export function readParity(model = 'slm-pocket'): Parity {
  const p = JSON.parse(fs.readFileSync(path.join(modelsDir(), model, 'parity.json'), 'utf8')) as Parity;
  if (!Array.isArray(p.cases) || p.cases.length === 0) throw new Error(`${model}/parity.json has no cases`);
  return p;
}

/** End-of-sequence ids: parity.json's own, plus generation_config.json's (the engine stops on any). */
export function eosIds(parity: Parity, model = 'slm-pocket'): Set<number> {
  const ids = new Set<number>([parity.eos_token_id].flat());
  const genPath = path.join(modelsDir(), model, 'generation_config.json');
  if (fs.existsSync(genPath)) {
    const g = JSON.parse(fs.readFileSync(genPath, 'utf8')) as { eos_token_id?: number | number[] };
    for (const id of [g.eos_token_id ?? []].flat()) ids.add(id);
  }
  return ids;
}

export interface ExpectedRun {
  /** Token ids without a trailing EOS. */
  ids: number[];
  finishReason: 'stop' | 'length';
}

/** What the engine should report for the first `maxNewTokens` of a parity case's continuation. */
export function expectedRun(c: ParityCase, eos: Set<number>, maxNewTokens: number): ExpectedRun {
  const prefix = c.output_ids.slice(0, maxNewTokens);
  const last = prefix.at(-1);
  if (last !== undefined && eos.has(last)) return { ids: prefix.slice(0, -1), finishReason: 'stop' };
  return { ids: prefix, finishReason: 'length' };
}

/** Single-turn user-only cases (what the chat UI can send) that end on EOS, longest answer first. */
export function uiCases(parity: Parity, eos: Set<number>): ParityCase[] {
  return parity.cases
    .filter((c) => c.messages.length === 1 && c.messages[0]?.role === 'user')
    .filter((c) => expectedRun(c, eos, parity.max_new_tokens).finishReason === 'stop')
    .sort((a, b) => b.output_ids.length - a.output_ids.length);
}
