/**
 * An answer whose engine failed mid-stream (a stream that ended without a finish reason, an error
 * event, a dropped connection): every character received is kept, the text not yet applied to the
 * pane included (the hook applies streamed text once per animation frame, and the failure may land
 * in the same frame as the last text), and the error says the text may be incomplete.
 */
import type { ChatTurn } from '../compare/conversation';

export const INCOMPLETE_NOTE = 'The text above is kept as it arrived and may be incomplete.';

/** `turn` after its engine failed with `message`, with `pending` (received, not yet shown) appended. */
export function failedAnswer(turn: ChatTurn, pending: string, message: string): ChatTurn {
  const content = turn.content + pending;
  return { ...turn, content, streaming: false, finishReason: 'error', error: content ? `${message} ${INCOMPLETE_NOTE}` : message };
}
