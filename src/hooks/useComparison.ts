/**
 * Sends one prompt to every pane's engine at the same moment and streams each answer into its own
 * conversation. One AbortController per pane per send. Streamed text from all panes is applied
 * once per animation frame, so several fast streams cost one React render per frame, not one per
 * token; and at most every STREAM_PACED_MS while the in-browser engine keeps every core busy
 * (compare/render-pace.ts has the measured reason), the first text of each answer at once.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { conversationFor, type ChatTurn } from '../compare/conversation';
import type { Exchange, PaneResult } from '../compare/strip';
import { validateGenerationParams, type ChatEngine, type ChatMessage, type GenerationParams } from '../engines/types';
import { failedAnswer } from './failed-answer';
import { isConstrained } from '../inference/response-format';
import { nextTask, sentOrDeadline, startAll } from '../compare/send-start';
import { nextRenderAt, streamRenderIntervalMs } from '../compare/render-pace';

export interface PaneSpec {
  id: string;
  label: string;
  engine: ChatEngine | null;
  /** Bytes of the request that leaves the device for these messages (0 for in-browser engines). */
  bytesFor: (messages: ChatMessage[], params: GenerationParams) => number;
  /** Turns an engine error into one sentence. */
  describeError: (e: unknown) => string;
  /** CPU threads the engine keeps busy in this page while it generates (0: hosted, or on the GPU). */
  cpuThreads: number;
}

type Turns = Record<string, ChatTurn[]>;

export function useComparison(panes: PaneSpec[], onExchange?: (e: Exchange) => void) {
  const [turns, setTurns] = useState<Turns>({});
  const [busy, setBusy] = useState(false);
  const [lastResults, setLastResults] = useState<PaneResult[] | null>(null);
  const controllers = useRef(new Map<string, AbortController>());
  const pending = useRef(new Map<number, string>());
  const frame = useRef<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRender = useRef(-Infinity);
  const interval = useRef(0);
  /** Answers whose text has been rendered at least once (their first text is not paced). */
  const rendered = useRef(new Set<number>());
  const nextId = useRef(1);
  const turnsRef = useRef(turns);
  turnsRef.current = turns;

  const flush = useCallback(() => {
    frame.current = null;
    if (pending.current.size === 0) return;
    const texts = new Map(pending.current);
    pending.current.clear();
    lastRender.current = performance.now();
    for (const id of texts.keys()) rendered.current.add(id);
    setTurns((all) => {
      const out: Turns = {};
      for (const [pane, list] of Object.entries(all)) out[pane] = list.map((t) => (texts.has(t.id) ? { ...t, content: t.content + (texts.get(t.id) ?? '') } : t));
      return out;
    });
  }, []);

  /** Renders pending text in the next frame, or once the paced interval has passed (`fresh`: an answer's first text, at once). */
  const schedule = useCallback((fresh: boolean) => {
    if (frame.current !== null) return;
    const now = performance.now();
    const at = fresh ? now : nextRenderAt(lastRender.current, interval.current, now);
    if (at <= now) {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      frame.current = requestAnimationFrame(flush);
    } else {
      timer.current ??= setTimeout(() => {
        timer.current = null;
        frame.current ??= requestAnimationFrame(flush);
      }, at - now);
    }
  }, [flush]);

  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    if (timer.current !== null) clearTimeout(timer.current);
  }, []);

  const patch = useCallback((paneId: string, turnId: number, f: (t: ChatTurn) => ChatTurn) => {
    setTurns((all) => ({ ...all, [paneId]: (all[paneId] ?? []).map((t) => (t.id === turnId ? f(t) : t)) }));
  }, []);

  const send = useCallback(
    /** `onStart`: called as the send is shown (the Composer empties its box then); not for a refused send. */
    async (text: string, params: GenerationParams, systemPrompt: string, onStart?: () => void): Promise<string | null> => {
      const prompt = text.trim();
      if (!prompt) return 'Type a message first.';
      if (controllers.current.size > 0) return 'Wait for the current answers, or stop them.';
      const active = panes.filter((p) => p.engine !== null);
      if (active.length === 0) return 'Load a model first.';
      const problems = validateGenerationParams(params);
      if (problems.length) return problems.join(' ');

      const json = isConstrained(params.responseFormat) ? params.responseFormat : null;
      const cpuThreads = active.reduce((n, p) => n + p.cpuThreads, 0);
      interval.current = streamRenderIntervalMs(cpuThreads, globalThis.navigator?.hardwareConcurrency ?? 1);
      rendered.current.clear();
      // Everything is prepared first, then every engine is called in the same tick.
      const jobs = active.map((p) => {
        const messages = conversationFor(systemPrompt, turnsRef.current[p.id] ?? [], prompt);
        const ac = new AbortController();
        controllers.current.set(p.id, ac);
        return { pane: p, messages, ac, userId: nextId.current++, answerId: nextId.current++ };
      });
      // The send is rendered once every request has left (send-start.ts): rendered in the click, its
      // render, commit and useChatFocus's effects ran before the hosted fetch() (in its TTFT). Until
      // then nothing of this send touches React state: streamed text waits in `pending` and an
      // answer's final patch waits for `shown`, so neither is applied before its turn exists.
      let markShown = () => {};
      const shown = new Promise<void>((resolve) => (markShown = resolve));
      const view = { shown: false };
      const started = startAll(
        jobs.map((j) => async (onSent: () => void): Promise<Exchange['answers'][number]> => {
          // Measured after the call: a hosted engine may learn its model name during the request.
          const bytes = () => j.pane.bytesFor(j.messages, params);
          try {
            const engine = j.pane.engine;
            if (!engine) throw new Error('No engine.');
            const r = await engine.generate({
              messages: j.messages,
              params,
              signal: j.ac.signal,
              onSent,
              onChunk: (c) => {
                if (!c.text) return;
                pending.current.set(j.answerId, (pending.current.get(j.answerId) ?? '') + c.text);
                if (view.shown) schedule(!rendered.current.has(j.answerId));
              },
            });
            await shown;
            pending.current.delete(j.answerId);
            const refused = r.formatFallback ?? null;
            patch(j.pane.id, j.answerId, (t) => ({ ...t, content: r.text, streaming: false, finishReason: r.finishReason, metrics: r.metrics, ...(refused ? { constraintRefused: refused } : {}), ...(r.notice ? { notice: r.notice } : {}) }));
            return {
              paneId: j.pane.id,
              label: j.pane.label,
              metrics: r.metrics,
              bytesSent: bytes(),
              error: null,
              output: r.text,
              finishReason: r.finishReason,
              json: json ? { format: json, output: r.text, finishReason: r.finishReason } : null,
              constraintRefused: refused,
            };
          } catch (e) {
            await shown;
            // Text received in the frame the failure landed in is still pending: keep it (failed-answer.ts).
            const rest = pending.current.get(j.answerId) ?? '';
            pending.current.delete(j.answerId);
            const message = j.pane.describeError(e);
            const shownText = turnsRef.current[j.pane.id]?.find((t) => t.id === j.answerId)?.content ?? '';
            patch(j.pane.id, j.answerId, (t) => failedAnswer(t, rest, message));
            return { paneId: j.pane.id, label: j.pane.label, metrics: null, bytesSent: bytes(), error: message, output: shownText + rest, finishReason: 'error' };
          } finally {
            controllers.current.delete(j.pane.id);
          }
        }),
      );
      // In the click's task when the requests leave in it (the SDK loaded: microtasks only), else at
      // the latest in the next task. Rendered in the click (before), the render, commit and
      // useChatFocus's forced layout ran before the hosted fetch() in 8 of 8 traced sends
      // (scripts/bench/hosted-order.mjs); now fetch() comes first in 8 of 8. Paired A/B against that
      // (hosted-ab.mjs, 3 runs of 20 rounds, load 0-3): client_overhead_ms 2.94, 4.08, 3.30 against
      // 6.35, 6.86, 4.58; -1.9, -1.7, -1.2 ms per round (docs/performance.md). A transition after the requests left was worse (8.7 ms: its
      // render ran as a fast endpoint's first bytes arrived); here the render runs in the same task,
      // right after the fetch() calls, while the request is on its way. onStart empties the prompt box:
      // a store only the Composer reads (state/prompt-draft.ts), so this render is the conversation's,
      // not App's (render phase 0.74/0.64 -> 0.30/0.38 ms, profiling build; A/B -0.14/-0.81/-0.37 ms per round, noise-sized).
      await sentOrDeadline(started.sent, nextTask());
      onStart?.();
      setTurns((all) => {
        const out = { ...all };
        for (const j of jobs) {
          out[j.pane.id] = [
            ...(all[j.pane.id] ?? []),
            { id: j.userId, role: 'user', content: prompt },
            { id: j.answerId, role: 'assistant', content: '', streaming: true, ...(json ? { responseFormat: json } : {}) },
          ];
        }
        return out;
      });
      setBusy(true);
      view.shown = true;
      markShown();
      // Text that came before the turns were shown is each answer's first: at once.
      if (pending.current.size > 0) schedule(true);
      const results = await Promise.all(started.results);
      setLastResults(results);
      setBusy(false);
      onExchange?.({ prompt, answers: results });
      return null;
    },
    [panes, schedule, patch, onExchange],
  );

  const stop = useCallback(() => {
    for (const ac of controllers.current.values()) ac.abort();
  }, []);

  const clear = useCallback(() => {
    stop();
    setTurns({});
    setLastResults(null);
  }, [stop]);

  return { turns, busy, lastResults, send, stop, clear };
}
