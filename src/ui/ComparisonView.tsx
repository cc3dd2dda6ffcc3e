/** Panes side by side, the comparison strip for the last turn, and the one prompt box. */
import { useMemo } from 'react';
import type { ChatTurn } from '../compare/conversation';
import type { Price } from '../compare/pricing';
import { computeStrip, type PaneResult } from '../compare/strip';
import type { PaneSpec } from '../hooks/useComparison';
import type { AgreementState } from '../hooks/useAgreement';
import { AgreementView } from './AgreementView';
import { ComparisonStrip } from './ComparisonStrip';
import { Composer } from './Composer';
import { PaneView } from './PaneView';

interface Props {
  panes: PaneSpec[];
  turns: Record<string, ChatTurn[]>;
  lastResults: PaneResult[] | null;
  prices: Record<string, Price>;
  busy: boolean;
  draft: string;
  onDraft: (s: string) => void;
  onSend: (text: string) => Promise<string | null>;
  onStop: () => void;
  onClear: () => void;
  localReady: boolean;
  agreement?: AgreementState;
  /** The local model's load time (ms), for the decision's payback point. */
  loadMs?: number | null;
}

export function ComparisonView({ panes, turns, lastResults, prices, busy, draft, onDraft, onSend, onStop, onClear, localReady, agreement, loadMs = null }: Props) {
  const rows = useMemo(() => (lastResults ? computeStrip(lastResults, prices) : []), [lastResults, prices]);
  const ready = panes.some((p) => p.engine !== null);
  return (
    <section className="panel chat" aria-label="Conversation">
      <div className={`panes n${panes.length}`}>
        {panes.map((p) => (
          <PaneView
            key={p.id}
            id={p.id}
            title={p.id === 'local' ? 'In your browser' : 'Hosted'}
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
      </div>
      <ComparisonStrip rows={rows} />
      <Composer busy={busy} ready={ready} draft={draft} onDraft={onDraft} onSend={onSend} onStop={onStop} onClear={onClear} canClear={Object.values(turns).some((t) => t.length > 0)} />
      {agreement && panes.some((p) => p.id === 'hosted' && p.engine) && <AgreementView state={agreement} loadMs={loadMs} />}
    </section>
  );
}
