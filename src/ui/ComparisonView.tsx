/** Panes side by side, the comparison strip for the last turn, and the one prompt box. */
import { useMemo } from 'react';
import type { ChatTurn } from '../compare/conversation';
import type { Price } from '../compare/pricing';
import { computeStrip, type PaneResult } from '../compare/strip';
import type { PaneSpec } from '../hooks/useComparison';
import type { AgreementState } from '../hooks/useAgreement';
import type { PromptDraft } from '../state/prompt-draft';
import { AgreementView } from './deferred';
import { useChatFocus } from '../hooks/useChatFocus';
import { ComparisonStrip } from './ComparisonStrip';
import { Composer } from './Composer';
import { PaneView } from './PaneView';

interface Props {
  panes: PaneSpec[];
  turns: Record<string, ChatTurn[]>;
  lastResults: PaneResult[] | null;
  prices: Record<string, Price>;
  busy: boolean;
  draft: PromptDraft;
  onSend: (text: string, onStart?: () => void) => Promise<string | null>;
  onStop: () => void;
  onClear: () => void;
  localReady: boolean;
  agreement?: AgreementState;
  /** The local model's load time (ms), for the decision's payback point. */
  loadMs?: number | null;
}

const paneTitle = (id: string) => (id === 'local' ? 'In your browser' : 'Hosted');

export function ComparisonView({ panes, turns, lastResults, prices, busy, draft, onSend, onStop, onClear, localReady, agreement, loadMs = null }: Props) {
  const rows = useMemo(() => (lastResults ? computeStrip(lastResults, prices) : []), [lastResults, prices]);
  const ready = panes.some((p) => p.engine !== null);
  const focus = useChatFocus(busy, turns, paneTitle);
  return (
    <section
      ref={focus.chatRef}
      className="panel chat"
      aria-label="Conversation"
      onKeyDown={(e) => {
        // Esc stops the answers from anywhere in the conversation (the answer area has focus after Send).
        if (e.key === 'Escape' && busy) {
          e.preventDefault();
          onStop();
        }
      }}
    >
      <div ref={focus.answersRef} className={`panes n${panes.length}`} tabIndex={-1} role="region" aria-label="Answers" aria-busy={busy} data-testid="answers">
        {panes.map((p) => (
          <PaneView
            key={p.id}
            id={p.id}
            title={paneTitle(p.id)}
            subtitle={p.label}
            turns={turns[p.id] ?? []}
            emptyText={
              p.engine
                ? p.id === 'local'
                  ? 'Ask something the model knows (see its examples).'
                  : 'Ready: the same prompt goes here too.'
                : p.id === 'local'
                  ? localReady
                    ? ''
                    : 'Load a model to start.'
                  : 'Set up the endpoint in the Hosted tab.'
            }
          />
        ))}
        {rows.length >= 2 && (
          // Wide table: it scrolls inside itself on a narrow screen, never the page.
          <div className="scroll-x" tabIndex={0} role="region" aria-label="Comparison of the last turn">
            <ComparisonStrip rows={rows} />
          </div>
        )}
      </div>
      <div className="sr-only" aria-live="polite" data-testid="answer-announcement">
        {focus.announcement}
      </div>
      <Composer busy={busy} ready={ready} draft={draft} onSend={onSend} onStop={onStop} onClear={onClear} canClear={Object.values(turns).some((t) => t.length > 0)} inputRef={focus.promptRef} />
      {agreement && panes.some((p) => p.id === 'hosted' && p.engine) && <AgreementView state={agreement} loadMs={loadMs} />}
    </section>
  );
}
