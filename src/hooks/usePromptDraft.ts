/** The prompt box's text (state/prompt-draft.ts): one store per app, read by the Composer alone. */
import { useEffect, useState } from 'react';
import { createPromptDraft, type PromptDraft } from '../state/prompt-draft';

/** The app's store (stable for its lifetime): App hands it down; setting it re-renders no caller. */
export function usePromptDraftStore(): PromptDraft {
  return useState(createPromptDraft)[0];
}

/**
 * The text, re-rendering the caller (and only it) when it changes. A plain state fed by the store,
 * not useSyncExternalStore: that renders every store change in React's sync lane, so the Send's
 * emptied box (set with the new turns, outside the click's event) would be a render and commit of
 * its own instead of part of the send's one.
 */
export function usePromptDraft(store: PromptDraft): string {
  const [text, setText] = useState(store.get);
  useEffect(() => {
    setText(store.get()); // a set between the render and this subscription
    return store.subscribe(() => setText(store.get()));
  }, [store]);
  return text;
}
