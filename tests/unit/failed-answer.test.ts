import { describe, expect, it } from 'vitest';
import { failedAnswer, INCOMPLETE_NOTE } from '../../src/hooks/failed-answer';

describe('failedAnswer', () => {
  it('keeps the text that arrived in the same frame as the failure, and says it may be incomplete', () => {
    const turn = { id: 2, role: 'assistant' as const, content: 'The answer', streaming: true };
    const t = failedAnswer(turn, ' is 42', 'The stream ended before the answer was complete.');
    expect(t.content).toBe('The answer is 42');
    expect(t.streaming).toBe(false);
    expect(t.finishReason).toBe('error');
    expect(t.error).toBe(`The stream ended before the answer was complete. ${INCOMPLETE_NOTE}`);
  });

  it('keeps pending text even when nothing was shown yet; an empty answer gets the plain error', () => {
    const turn = { id: 2, role: 'assistant' as const, content: '', streaming: true };
    expect(failedAnswer(turn, 'Hi', 'Failed.').content).toBe('Hi');
    const empty = failedAnswer(turn, '', 'Failed.');
    expect(empty.content).toBe('');
    expect(empty.error).toBe('Failed.');
  });
});
