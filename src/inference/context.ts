/**
 * The context-limit policy, one rule for the worker: a conversation whose prompt would leave less
 * than `answerRoom` tokens of the model's context (max_position_embeddings) has its oldest turns
 * left out — the system message and the newest user message always stay — and the answer carries
 * a notice saying how many. When even the system message and the newest user message leave no
 * room, the request is refused with the numbers. Nothing is ever cut inside a message (a half
 * message is garbage to the model) and the model never runs past its positions.
 */

/** A chat message as far as the policy cares (engines/types.ts's ChatMessage fits; that layer is above this one). */
interface Message {
  role: string;
}

/** Tokens reserved for the answer: the requested maximum, but at most a quarter of the context. */
export function answerRoom(maxContext: number, maxNewTokens: number): number {
  return Math.max(1, Math.min(maxNewTokens, Math.floor(maxContext / 4)));
}

export type ContextFit<M extends Message> =
  | { ok: true; messages: M[]; ids: number[]; dropped: number }
  | { ok: false; promptTokens: number; message: string };

/**
 * Leaves out the oldest non-system messages (a user turn and the answer after it together) until
 * the templated prompt plus `room` fits `maxContext`. `encode` templates and tokenizes.
 */
export function fitContext<M extends Message>(messages: readonly M[], encode: (m: M[]) => number[], maxContext: number, room: number): ContextFit<M> {
  const system = messages[0]?.role === 'system' ? [messages[0]] : [];
  let rest = messages.slice(system.length);
  let dropped = 0;
  for (;;) {
    const current = [...system, ...rest];
    const ids = encode(current);
    if (ids.length + room <= maxContext) return { ok: true, messages: current, ids, dropped };
    if (rest.length <= 1) {
      return {
        ok: false,
        promptTokens: ids.length,
        message: `The newest message${system.length ? ' with the system prompt' : ''} is ${ids.length} tokens, and the model reads at most ${maxContext} (${room} kept for the answer). Shorten the message${system.length ? ' or the system prompt' : ''}.`,
      };
    }
    // Drop the oldest turn: a user message and the answers that follow it, never the newest message.
    let cut = 1;
    while (cut < rest.length - 1 && rest[cut]?.role !== 'user') cut++;
    dropped += cut;
    rest = rest.slice(cut);
  }
}

/** The notice shown with an answer when messages were left out. */
export function contextNotice(dropped: number, maxContext: number): string | null {
  if (dropped === 0) return null;
  return `The conversation was longer than the model's ${maxContext}-token context: the oldest ${dropped} message${dropped === 1 ? ' was' : 's were'} left out of this answer's prompt.`;
}
