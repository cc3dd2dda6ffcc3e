/**
 * Focus, scrolling and announcements around one send, for keyboard and screen-reader users:
 * - Send moves focus into the answer area (when focus was in the chat: the prompt box or Send);
 * - when every answer has ended, focus goes back to the prompt box (unless the user has moved it
 *   elsewhere, e.g. into the settings) and the answers are announced once, politely, through a
 *   live region (not every token: the turns themselves are not live);
 * - while answers stream, a scrolled answer area that was at its bottom stays at its bottom.
 */
import { useEffect, useRef, useState } from 'react';
import type { ChatTurn } from '../compare/conversation';

/** Within this many px of the bottom counts as "at the bottom" (a line of text is ~22 px). */
const BOTTOM_SLACK_PX = 40;

export function useChatFocus(busy: boolean, turns: Record<string, ChatTurn[]>, title: (paneId: string) => string) {
  const chatRef = useRef<HTMLElement>(null);
  const answersRef = useRef<HTMLDivElement>(null);
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const [announcement, setAnnouncement] = useState('');
  const wasBusy = useRef(busy);
  const atBottom = useRef(true);
  const turnsRef = useRef(turns);
  turnsRef.current = turns;
  const titleRef = useRef(title);
  titleRef.current = title;

  useEffect(() => {
    const el = answersRef.current;
    if (!el) return;
    const on = () => {
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    };
    el.addEventListener('scroll', on, { passive: true });
    return () => el.removeEventListener('scroll', on);
  }, []);

  // Follow the stream when the reader is at the bottom (phones: the answer area is the scroller).
  useEffect(() => {
    // The send's own commit (busy just turned on; the effect below has not seen it yet): that effect
    // scrolls, and reading scrollHeight here too was one more forced layout in the send.
    if (busy && !wasBusy.current) return;
    const el = answersRef.current;
    if (el && atBottom.current && el.scrollHeight > el.clientHeight) el.scrollTop = el.scrollHeight;
  }, [turns]);

  useEffect(() => {
    const before = wasBusy.current;
    wasBusy.current = busy;
    const chat = chatRef.current;
    const active = document.activeElement;
    const inChat = !!chat && !!active && chat.contains(active);
    if (busy && !before) {
      setAnnouncement('');
      atBottom.current = true;
      if (inChat) answersRef.current?.focus({ preventScroll: true });
      // Phones: the chat is one screen tall (below a share banner it may be partly scrolled off): show all of it.
      if (chat && chat.getBoundingClientRect().height <= window.innerHeight + 1) chat.scrollIntoView({ block: 'nearest' });
      const el = answersRef.current;
      if (el && el.scrollHeight > el.clientHeight) el.scrollTop = el.scrollHeight;
      lastAnswer(el)?.scrollIntoView({ block: 'nearest' });
    }
    if (!busy && before) {
      // Stop was focused and is gone (focus fell to <body>), or focus stayed in the chat.
      if (inChat || active === document.body || active === null) promptRef.current?.focus({ preventScroll: true });
      lastAnswer(answersRef.current)?.scrollIntoView({ block: 'nearest' });
      const parts: string[] = [];
      for (const [paneId, list] of Object.entries(turnsRef.current)) {
        const t = list.at(-1);
        if (!t || t.role !== 'assistant') continue;
        // Errors are announced at once (role="alert" on the turn), not repeated here.
        if (!t.error) parts.push(`${titleRef.current(paneId)} answered: ${t.content || '(nothing)'}`);
      }
      setAnnouncement(parts.join('\n'));
    }
  }, [busy]);

  return { chatRef, answersRef, promptRef, announcement };
}

function lastAnswer(el: HTMLElement | null): HTMLElement | null {
  const all = el?.querySelectorAll<HTMLElement>('[data-testid="turn-assistant"]');
  return all && all.length ? all[all.length - 1]! : null;
}
