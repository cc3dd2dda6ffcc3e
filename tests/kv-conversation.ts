/**
 * The scripted 8-turn conversation the KV-reuse tests drive (Node, browser, reference server):
 * follow-ups that extend the kept state, a Stop mid-answer (the partial answer stays in the
 * history, as in the app), an edited system prompt, and New chat. Each driver answers a turn and
 * says how; the script keeps the history.
 */
export interface Msg {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type Turn =
  | { kind: 'user'; content: string; stopAfter?: number }
  | { kind: 'edit-system'; system: string; content: string }
  | { kind: 'new-chat'; content: string };

export const SYSTEM = 'You are a helpful assistant. Answer briefly.';

export const SCRIPT: Turn[] = [
  { kind: 'user', content: 'What is the capital of France? Tell me one fact about it.' },
  { kind: 'user', content: 'And what river runs through that city?' },
  { kind: 'user', content: 'Name three famous museums there, please.', stopAfter: 5 },
  { kind: 'user', content: 'Thanks. What is two plus three?' },
  { kind: 'edit-system', system: 'You are a pirate. Answer briefly, in pirate speak.', content: 'Where do you keep your treasure?' },
  { kind: 'user', content: 'How many ships do you have?' },
  { kind: 'new-chat', content: 'Write a short sentence about cats.' },
  { kind: 'user', content: 'Now one about dogs.' },
];

/** Runs the script: `answer` gets the messages of each turn and returns the answer text kept in the history. */
export async function runScript(answer: (messages: Msg[], turn: number, stopAfter: number | null) => Promise<string>, script: Turn[] = SCRIPT): Promise<void> {
  let system = SYSTEM;
  let history: Msg[] = [];
  for (const [i, t] of script.entries()) {
    if (t.kind === 'edit-system') system = t.system;
    if (t.kind === 'new-chat') history = [];
    history.push({ role: 'user', content: t.content });
    const messages: Msg[] = [{ role: 'system', content: system }, ...history];
    const text = await answer(messages, i, t.kind === 'user' ? (t.stopAfter ?? null) : null);
    history.push({ role: 'assistant', content: text });
  }
}
