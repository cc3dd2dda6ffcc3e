/**
 * Why a prompt reused less of the kept KV state than there was, in the words of the conversation
 * ("system prompt edited", "new chat", "after Stop"), for the run metrics beside "prefill N new ·
 * M reused". The core knows tokens (how many were kept, shared, reused); the engine that holds the
 * last conversation's messages compares them with the new ones. Pure.
 */
import type { PrefillReport } from './core';

export interface ReasonMessage {
  role: string;
  content: string;
}

/** The conversation the kept state came from: its prompt's messages and the answer generated to it. */
export interface LastConversation {
  messages: readonly ReasonMessage[];
  answer: string;
  /** The answer was stopped before its end (Stop). */
  stopped: boolean;
}

const system = (m: readonly ReasonMessage[]) => (m[0]?.role === 'system' ? m[0].content : null);

/** What changed between the last conversation and `messages`, or null when they extend it. */
export function conversationChange(last: LastConversation | null, messages: readonly ReasonMessage[]): string | null {
  if (last === null) return 'first prompt since the model loaded';
  if (system(last.messages) !== system(messages)) return last.messages.length > 0 && system(messages) !== null && system(last.messages) !== null ? 'system prompt edited' : 'system prompt added or removed';
  const opening = system(messages) === null ? 1 : 2;
  if (messages.length <= opening && last.messages.length >= opening) return 'new chat';
  const n = last.messages.length;
  for (let i = 0; i < Math.min(n, messages.length); i++) {
    const a = last.messages[i];
    const b = messages[i];
    if (a?.role !== b?.role || a?.content !== b?.content) return 'an earlier message was edited';
  }
  const answer = messages[n];
  if (messages.length > n && (answer?.role !== 'assistant' || answer.content !== last.answer)) {
    return last.stopped ? 'after Stop (the stopped answer is not in the conversation as generated)' : 'the last answer is not in the conversation as generated';
  }
  if (last.stopped) return 'after Stop';
  return null;
}

/**
 * The note for a run: the core's own where no cache was used (off, or reuse off); where the prompt
 * reused less than was kept, what changed in the conversation (and the core's note, e.g. a state
 * on the GPU that cannot be cut); null when the prompt extended the kept state.
 */
export function prefillNote(p: PrefillReport, last: LastConversation | null, messages: readonly ReasonMessage[]): string | null {
  if (p.kept === 0) {
    if (p.note) return p.note;
    return last === null ? 'prefilled whole: first prompt since the model loaded' : "prefilled whole: the last conversation's state was not kept (over the cache's memory limit)";
  }
  if (p.reused >= p.kept) return p.note;
  const change = conversationChange(last, messages) ?? 'the chat template wrote the last answer with other tokens than were generated';
  return `${p.reused === 0 ? 'prefilled whole' : 'reused up to the change'}: ${[change, p.note].filter((x) => x !== null).join('; ')}`;
}
