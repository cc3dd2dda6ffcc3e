/** One engine's side of the conversation: turns, streaming answer, metrics per answer. */
import { memo } from 'react';
import type { ChatTurn } from '../compare/conversation';
import { RunMetricsView } from './RunMetricsView';
import { JsonAnswer } from './json-deferred';

const FINISH: Record<string, string> = {
  stop: '',
  length: 'stopped at the max-new-tokens limit',
  abort: 'stopped by you',
  content_filter: 'stopped by the endpoint’s content filter',
  error: '',
};

interface Props {
  id: string;
  title: string;
  subtitle: string;
  turns: ChatTurn[];
  emptyText: string;
}

export function PaneView({ id, title, subtitle, turns, emptyText }: Props) {
  return (
    <section className="pane" aria-label={title} data-testid={`pane-${id}`}>
      <header className="pane-head">
        <strong>{title}</strong> <span className="muted small">{subtitle}</span>
      </header>
      {/* Focusable: on a wide screen the list scrolls by itself, and must scroll by keyboard too. */}
      <ol className="turns" tabIndex={0} aria-label={`${title}: conversation`}>
        {turns.length === 0 && <li className="muted empty">{emptyText}</li>}
        {turns.map((t) => (
          <TurnView key={t.id} turn={t} title={title} />
        ))}
      </ol>
    </section>
  );
}

/** One turn; memoized so a streaming answer re-renders only itself, not the whole history. */
const TurnView = memo(function TurnView({ turn: t, title }: { turn: ChatTurn; title: string }) {
  return (
    <li className={`turn ${t.role}`} data-testid={`turn-${t.role}`} data-streaming={t.streaming ? 'true' : 'false'} data-finish={t.finishReason ?? ''}>
      <div className="who">{t.role === 'user' ? 'You' : title}</div>
      {/* Model output is plain text: React escapes it, nothing is rendered as HTML. */}
      <div className="content" data-testid="turn-content">
        {/* JSON answers: pretty-printed with their verdict once complete (a lazily loaded view). */}
        {t.responseFormat && !t.streaming && !t.error ? <JsonAnswer text={t.content} finish={t.finishReason} format={t.responseFormat} /> : t.content}
        {t.streaming && <span className="caret" aria-hidden="true" />}
      </div>
      {t.constraintRefused && (
        <p className="muted small" data-testid="turn-format-refused">
          {t.constraintRefused}
        </p>
      )}
      {t.error && (
        <p className="error" role="alert" aria-live="assertive" data-testid="turn-error">
          {t.error}
        </p>
      )}
      {t.notice && (
        <p className="muted small" role="note" data-testid="turn-notice">
          {t.notice}
        </p>
      )}
      {t.finishReason && FINISH[t.finishReason] && <p className="muted small">({FINISH[t.finishReason]})</p>}
      {t.metrics && <RunMetricsView m={t.metrics} />}
    </li>
  );
});
