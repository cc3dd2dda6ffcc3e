/**
 * The conversation area. It owns the comparison state (useComparison), so streamed text
 * re-renders only this subtree, never the model, settings or device panels beside it.
 */
import { memo, useCallback } from 'react';
import type { Price } from '../compare/pricing';
import type { GenerationParams } from '../engines/types';
import type { Exchange } from '../compare/strip';
import { useComparison, type PaneSpec } from '../hooks/useComparison';
import { ComparisonView } from './ComparisonView';
import type { AgreementState } from '../hooks/useAgreement';
import type { PromptDraft } from '../state/prompt-draft';

interface Props {
  panes: PaneSpec[];
  generation: GenerationParams;
  systemPrompt: string;
  prices: Record<string, Price>;
  /** The prompt box's text (a stable store: typing re-renders only the Composer). */
  draft: PromptDraft;
  localReady: boolean;
  /** Called once per finished send (not per token). */
  onExchange?: (e: Exchange) => void;
  agreement?: AgreementState;
  loadMs?: number | null;
}

export const Conversation = memo(function Conversation({ panes, generation, systemPrompt, prices, draft, localReady, onExchange, agreement, loadMs = null }: Props) {
  const chat = useComparison(panes, onExchange);
  const onSend = useCallback((text: string, onStart?: () => void) => chat.send(text, generation, systemPrompt, onStart), [chat.send, generation, systemPrompt]);
  return (
    <ComparisonView
      panes={panes}
      turns={chat.turns}
      lastResults={chat.lastResults}
      prices={prices}
      busy={chat.busy}
      draft={draft}
      onSend={onSend}
      onStop={chat.stop}
      onClear={chat.clear}
      localReady={localReady}
      agreement={agreement}
      loadMs={loadMs}
    />
  );
});
