/** The conversation with the local model: streaming answers, stop, new chat, metrics per answer. */
import { useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ChatTurn } from '../hooks/useChat';
import { RunMetricsView } from './RunMetricsView';

interface Props {
  turns: ChatTurn[];
  busy: boolean;
  ready: boolean;
  draft: string;
  onDraft: (s: string) => void;
  onSend: (text: string) => Promise<string | null>;
  onStop: () => void;
  onClear: () => void;
}

const FINISH: Record<string, string> = {
  stop: '',
  length: 'stopped at the max-new-tokens limit',
  abort: 'stopped by you',
  content_filter: 'stopped by a content filter',
  error: '',
};

export function ChatView({ turns, busy, ready, draft, onDraft, onSend, onStop, onClear }: Props) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    const problem = await onSend(draft);
    setError(problem);
    if (!problem) onDraft('');
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (!busy) void submit();
    }
  };
  return (
    <section className="panel chat" aria-label="Chat">
      <ol className="turns" data-testid="turns">
        {turns.length === 0 && <li className="muted empty">{ready ? 'Ask something the model knows (see its examples).' : 'Load a model to start.'}</li>}
        {turns.map((t) => (
          <li key={t.id} className={`turn ${t.role}`} data-testid={`turn-${t.role}`} data-streaming={t.streaming ? 'true' : 'false'} data-finish={t.finishReason ?? ''}>
            <div className="who">{t.role === 'user' ? 'You' : 'Model'}</div>
            {/* Model output is plain text: React escapes it, nothing is rendered as HTML. */}
            <div className="content" data-testid="turn-content">
              {t.content}
              {t.streaming && <span className="caret" aria-hidden="true" />}
            </div>
            {t.error && (
              <p className="error" role="alert" data-testid="turn-error">
                {t.error}
              </p>
            )}
            {t.finishReason && FINISH[t.finishReason] && <p className="muted small">({FINISH[t.finishReason]})</p>}
            {t.metrics && <RunMetricsView m={t.metrics} />}
          </li>
        ))}
      </ol>
      <form className="composer" onSubmit={submit}>
        <textarea
          value={draft}
          onChange={(e) => onDraft(e.target.value)}
          onKeyDown={onKey}
          placeholder={ready ? 'Message the model (Enter to send, Shift+Enter for a new line)' : 'Load a model first'}
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
          <button type="button" onClick={onClear} disabled={turns.length === 0} data-testid="new-chat">
            New chat
          </button>
        </div>
        {error && (
          <p className="error" role="alert" data-testid="send-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
