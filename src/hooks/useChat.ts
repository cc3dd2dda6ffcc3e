/**
 * One conversation with one ChatEngine: send, stream, stop (one AbortController per send), clear.
 * The whole conversation goes to the engine on every call (the engine keeps no hidden state).
 */
import { useCallback, useRef, useState } from 'react';
import { LocalEngineError } from '../engines/local/LocalEngine';
import { validateGenerationParams, type ChatEngine, type ChatMessage, type FinishReason, type GenerationParams } from '../engines/types';
import type { RunMetrics } from '../metrics/timing';

export interface ChatTurn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  streaming?: boolean;
  finishReason?: FinishReason;
  metrics?: RunMetrics;
  error?: string;
}

/** The messages sent to the engine: system prompt, then every completed turn. */
export function conversationFor(system: string, turns: ChatTurn[], next: string): ChatMessage[] {
  const msgs: ChatMessage[] = [];
  if (system.trim()) msgs.push({ role: 'system', content: system.trim() });
  for (const t of turns) {
    if (t.error || (t.role === 'assistant' && !t.content)) continue;
    msgs.push({ role: t.role, content: t.content });
  }
  msgs.push({ role: 'user', content: next });
  // A user turn whose answer failed leaves two user turns in a row: keep only the latest.
  return msgs.filter((m, i) => !(m.role === 'user' && msgs[i + 1]?.role === 'user'));
}

export function useChat(engine: ChatEngine | null) {
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const [busy, setBusy] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const nextId = useRef(1);

  const send = useCallback(
    async (text: string, params: GenerationParams, systemPrompt: string): Promise<string | null> => {
      const prompt = text.trim();
      if (!prompt) return 'Type a message first.';
      if (!engine) return 'Load a model first.';
      if (controller.current) return 'Wait for the current answer, or stop it.';
      const problems = validateGenerationParams(params);
      if (problems.length) return problems.join(' ');
      const messages = conversationFor(systemPrompt, turns, prompt);
      const userTurn: ChatTurn = { id: nextId.current++, role: 'user', content: prompt };
      const answerId = nextId.current++;
      setTurns((t) => [...t, userTurn, { id: answerId, role: 'assistant', content: '', streaming: true }]);
      const ac = new AbortController();
      controller.current = ac;
      setBusy(true);
      const patch = (f: (t: ChatTurn) => ChatTurn) => setTurns((ts) => ts.map((t) => (t.id === answerId ? f(t) : t)));
      try {
        const r = await engine.generate({
          messages,
          params,
          signal: ac.signal,
          onChunk: (c) => {
            if (c.text) patch((t) => ({ ...t, content: t.content + c.text }));
          },
        });
        patch((t) => ({ ...t, content: r.text, streaming: false, finishReason: r.finishReason, metrics: r.metrics }));
      } catch (e) {
        const message = e instanceof LocalEngineError ? e.error.message : e instanceof Error ? e.message : String(e);
        patch((t) => ({ ...t, streaming: false, finishReason: 'error', error: message }));
      } finally {
        controller.current = null;
        setBusy(false);
      }
      return null;
    },
    [engine, turns],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const clear = useCallback(() => {
    controller.current?.abort();
    setTurns([]);
  }, []);

  return { turns, busy, send, stop, clear };
}
