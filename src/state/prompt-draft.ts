/**
 * The prompt box's text, outside React's state tree: the Composer alone subscribes to it
 * (hooks/usePromptDraft.ts); the share flow and the model card's examples read or set it without
 * re-rendering anything else.
 *
 * Why (issue 14): as state in App, emptying the box on Send re-rendered all of App — header, the
 * settings tab's panel, the conversation's props — in the send's task, right after the hosted
 * request's fetch() and before its first bytes.
 */

export interface PromptDraft {
  get(): string;
  /** Notifies the subscribers only when the text changes. */
  set(text: string): void;
  /** Returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export function createPromptDraft(initial = ''): PromptDraft {
  let text = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => text,
    set(next) {
      if (next === text) return;
      text = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
