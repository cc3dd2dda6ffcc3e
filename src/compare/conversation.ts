/** One pane's conversation: turns as shown, and the messages an engine is sent for the next turn. */
import type { ChatMessage, FinishReason } from '../engines/types';
import type { ResponseFormat } from '../inference/response-format';
import type { RunMetrics } from '../metrics/timing';

export interface ChatTurn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  streaming?: boolean;
  finishReason?: FinishReason;
  metrics?: RunMetrics;
  error?: string;
  /** Said with the answer (e.g. turns left out to fit the model's context). */
  notice?: string;
  /** An answer asked for as JSON (object or schema): shown pretty-printed with its verdict. */
  responseFormat?: ResponseFormat;
  /** The endpoint refused the output constraint and answered as plain text: its message. */
  constraintRefused?: string;
}

/** The messages sent to the engine: system prompt, then every completed turn, then the new prompt. */
export function conversationFor(system: string, turns: ChatTurn[], next: string): ChatMessage[] {
  const msgs: ChatMessage[] = [];
  if (system.trim()) msgs.push({ role: 'system', content: system.trim() });
  for (const t of turns) {
    if (t.error || (t.role === 'assistant' && !t.content)) continue;
    msgs.push({ role: t.role, content: t.content });
  }
  msgs.push({ role: 'user', content: next });
  // A user turn whose answer failed leaves two user turns in a row: keep only the latest.
  return msgs.filter((m, i) => !(m.role === 'user' && msgs[i + 1]?.role === 'user'));
}
