/** The one prompt box: Enter sends to every pane, Stop stops them all, New chat clears them. */
import { useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react';
import { usePromptDraft } from '../hooks/usePromptDraft';
import type { PromptDraft } from '../state/prompt-draft';

interface Props {
  busy: boolean;
  ready: boolean;
  /** The box's text; the Composer alone subscribes to it (emptying it on Send re-renders only this). */
  draft: PromptDraft;
  /** `onStart` is called as the send is shown, not for a refused one. */
  onSend: (text: string, onStart?: () => void) => Promise<string | null>;
  onStop: () => void;
  onClear: () => void;
  canClear: boolean;
  /** The prompt box, for moving focus back to it after an answer. */
  inputRef?: RefObject<HTMLTextAreaElement | null>;
}

export function Composer({ busy, ready, draft: store, onSend, onStop, onClear, canClear, inputRef }: Props) {
  const draft = usePromptDraft(store);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    // The box empties as the prompt goes out (onStart, in the same render as the new turns, after
    // the requests left: useComparison), not when the answers end (onSend resolves then): the user
    // may type the next prompt while they stream, and that text must survive. A refused send (empty,
    // busy, bad settings) is refused before any answer starts and keeps its text.
    const problem = await onSend(draft, () => store.set(''));
    setError(problem);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (!busy) void submit();
    }
  };
  return (
    <form className="composer" onSubmit={submit} aria-label="Prompt">
      <textarea
        ref={inputRef}
        id="prompt"
        value={draft}
        onChange={(e) => store.set(e.target.value)}
        onKeyDown={onKey}
        placeholder={ready ? 'Message (Enter to send, Shift+Enter for a new line, Esc stops)' : 'Load a model first'}
        rows={3}
        aria-label="Prompt"
        data-testid="prompt"
      />
      <div className="row">
        {busy ? (
          <button type="button" className="danger" onClick={onStop} data-testid="stop">
            Stop
          </button>
        ) : (
          <button type="submit" className="primary" disabled={!ready} data-testid="send">
            Send
          </button>
        )}
        <button
          type="button"
          onClick={() => {
            onClear();
            // The button disables itself (nothing left to clear): the prompt box is where the user goes next.
            inputRef?.current?.focus();
          }}
          disabled={!canClear}
          data-testid="new-chat"
        >
          New chat
        </button>
      </div>
      {error && (
        <p className="error" role="alert" aria-live="assertive" data-testid="send-error">
          {error}
        </p>
      )}
    </form>
  );
}
