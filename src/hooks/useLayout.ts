/**
 * Layout state: which settings tab is chosen, whether the screen is a phone (below PHONE_MAX_PX
 * wide), and on a phone whether the settings sheet is open over the chat. Also keeps
 * `--app-height` on <html> equal to the visual viewport's height, so the chat (and its prompt
 * box at the bottom) shrinks above an on-screen keyboard on browsers whose layout viewport does
 * not (iOS Safari).
 *
 * Focus: opening the sheet moves focus to its selected tab; "Back to chat" (or Esc) closes it and
 * returns focus to the button that opened it. When a model load ends ready, the sheet (if open
 * on the Model tab) closes and focus goes to the prompt box, where the user goes next.
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

export type Tab = 'model' | 'hosted' | 'settings' | 'suites' | 'device' | 'cache' | 'share';
export const TABS: [Tab, string][] = [
  ['model', 'Model'],
  ['hosted', 'Hosted'],
  ['settings', 'Generation'],
  ['suites', 'Suites'],
  ['device', 'Device'],
  ['cache', 'Cache'],
  ['share', 'Share'],
];

/** Same breakpoint as `@media (max-width: 720px)` in app.css. */
export const PHONE_MAX_PX = 720;
const PHONE_QUERY = `(max-width: ${PHONE_MAX_PX}px)`;

function usePhone(): boolean {
  const [phone, setPhone] = useState(() => typeof matchMedia === 'function' && matchMedia(PHONE_QUERY).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(PHONE_QUERY);
    const on = () => setPhone(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return phone;
}

function useVisualViewportHeight(): void {
  useEffect(() => {
    const vv = window.visualViewport;
    if (!vv) return;
    // Only at scale 1: a pinch zoom also shrinks the visual viewport, and must not shrink the app.
    const set = () => {
      if (Math.abs(vv.scale - 1) < 0.01) document.documentElement.style.setProperty('--app-height', `${Math.round(vv.height)}px`);
    };
    set();
    vv.addEventListener('resize', set);
    return () => vv.removeEventListener('resize', set);
  }, []);
}

export interface Layout {
  tab: Tab;
  phone: boolean;
  /** On a phone: the settings sheet covers the chat. On a wider screen always false. */
  sheetOpen: boolean;
  /** Chooses a tab; on a phone it also opens the sheet. */
  show: (t: Tab) => void;
  setTab: (t: Tab) => void;
  openSheet: () => void;
  closeSheet: () => void;
  /** Closes the sheet (on a phone) and puts focus in the prompt box (e.g. after choosing an example prompt). */
  toChat: () => void;
  /** The button that opens the sheet, and the sheet (for moving focus). */
  menuRef: RefObject<HTMLButtonElement | null>;
  sheetRef: RefObject<HTMLElement | null>;
}

/**
 * Focuses the prompt box once it is shown: it is hidden while the phone's sheet is open, and the
 * frame after closing the sheet can come before React has removed `hidden` (a focus() on a hidden
 * element does nothing, and focus stayed on the page: seen once in CI), so it tries for a few frames.
 */
function focusPromptWhenShown(frames = 10): void {
  requestAnimationFrame(() => {
    const el = document.getElementById(PROMPT_ID);
    if (el && el.closest('[hidden]') === null) el.focus();
    else if (frames > 1) focusPromptWhenShown(frames - 1);
  });
}

/** The prompt box's id (Composer), where focus goes once a model is ready. */
export const PROMPT_ID = 'prompt';
/** The Model tab's panel id (Tabs' panelId('settings', 'model')). */
const MODEL_PANEL_ID = 'settings-panel-model';
/** The share banner's slot (App). */
export const BANNER_ID = 'share-banner-slot';

export function useLayout(localStatus: string): Layout {
  const phone = usePhone();
  useVisualViewportHeight();
  const [tab, setTab] = useState<Tab>('model');
  const [open, setOpen] = useState(false);
  const menuRef = useRef<HTMLButtonElement>(null);
  const sheetRef = useRef<HTMLElement>(null);
  const sheetOpen = phone && open;
  const openSheet = useCallback(() => setOpen(true), []);
  const closeSheet = useCallback(() => {
    setOpen(false);
    // After the sheet is hidden (next frame), the opener gets focus back.
    requestAnimationFrame(() => menuRef.current?.focus());
  }, []);
  const toChat = useCallback(() => {
    setOpen(false);
    focusPromptWhenShown();
  }, []);
  const show = useCallback((t: Tab) => {
    setTab(t);
    setOpen(true);
  }, []);

  useEffect(() => {
    if (sheetOpen) sheetRef.current?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus();
  }, [sheetOpen]);

  const lastStatus = useRef(localStatus);
  const tabRef = useRef(tab);
  tabRef.current = tab;
  useEffect(() => {
    const before = lastStatus.current;
    lastStatus.current = localStatus;
    if (localStatus !== 'ready' || before !== 'loading') return;
    const active = document.activeElement;
    const fromSheet = phone && open && tabRef.current === 'model';
    if (fromSheet) setOpen(false);
    // Only when the user is not busy elsewhere: focus in the Model tab (on Load), on the share
    // banner ("Run it on my device"), or nowhere.
    const started = active instanceof HTMLElement && active.closest(`#${MODEL_PANEL_ID}, #${BANNER_ID}`) !== null;
    if (fromSheet || started || active === document.body || active === null) focusPromptWhenShown();
  }, [localStatus, phone, open]);

  return { tab, phone, sheetOpen, show, setTab, openSheet, closeSheet, toChat, menuRef, sheetRef };
}
