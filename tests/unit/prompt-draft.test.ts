import { describe, expect, it } from 'vitest';
import { createPromptDraft } from '../../src/state/prompt-draft';

describe('prompt draft store', () => {
  it('holds the text and notifies subscribers on a change only', () => {
    const d = createPromptDraft('hi');
    const seen: string[] = [];
    const off = d.subscribe(() => seen.push(d.get()));
    expect(d.get()).toBe('hi');
    d.set('hi'); // unchanged: no render for it
    d.set('hello');
    d.set('');
    expect(seen).toEqual(['hello', '']);
    off();
    d.set('after');
    expect(seen).toEqual(['hello', '']);
    expect(d.get()).toBe('after');
  });

  it('lets a listener unsubscribe another during a notification without skipping the rest', () => {
    const d = createPromptDraft();
    const calls: string[] = [];
    let offB = () => {};
    d.subscribe(() => {
      calls.push('a');
      offB();
    });
    offB = d.subscribe(() => calls.push('b'));
    d.set('x');
    expect(calls).toEqual(['a', 'b']);
    d.set('y');
    expect(calls).toEqual(['a', 'b', 'a']);
  });
});
