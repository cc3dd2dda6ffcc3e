/**
 * The one tab bar of the app, after the WAI-ARIA tabs pattern: a tablist of tabs with
 * aria-selected and aria-controls, one tab in the Tab order (the selected one), arrow keys move
 * and select (automatic activation), Home/End go to the first/last tab. TabPanel is the panel a
 * tab controls, labelled by its tab.
 */
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

interface TabsProps<T extends string> {
  /** Prefix of the ids of tabs and panels (unique on the page). */
  id: string;
  /** Accessible name of the tab list. */
  label: string;
  tabs: readonly (readonly [T, string])[];
  selected: T;
  onSelect: (t: T) => void;
  /** data-testid of each tab. */
  testId?: (t: T) => string;
  className?: string;
}

export const tabId = (id: string, t: string) => `${id}-tab-${t}`;
export const panelId = (id: string, t: string) => `${id}-panel-${t}`;

export function Tabs<T extends string>({ id, label, tabs, selected, onSelect, testId, className }: TabsProps<T>) {
  const list = useRef<HTMLDivElement>(null);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = tabs.findIndex(([t]) => t === selected);
    const next =
      e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    const t = tabs[next]![0];
    onSelect(t);
    list.current?.querySelector<HTMLButtonElement>(`#${CSS.escape(tabId(id, t))}`)?.focus();
  };
  return (
    <div ref={list} className={`tabs ${className ?? ''}`} role="tablist" aria-label={label} onKeyDown={onKey}>
      {tabs.map(([t, text]) => {
        const on = t === selected;
        return (
          <button
            key={t}
            type="button"
            role="tab"
            id={tabId(id, t)}
            aria-selected={on}
            // Only the shown panel exists in the page, so only its tab points at it.
            aria-controls={on ? panelId(id, t) : undefined}
            tabIndex={on ? 0 : -1}
            className={on ? 'tab active' : 'tab'}
            onClick={() => onSelect(t)}
            data-testid={testId?.(t)}
          >
            {text}
          </button>
        );
      })}
    </div>
  );
}

export function TabPanel({ id, tab, children, className }: { id: string; tab: string; children: ReactNode; className?: string }) {
  return (
    <div role="tabpanel" id={panelId(id, tab)} aria-labelledby={tabId(id, tab)} className={`tabpanel ${className ?? ''}`}>
      {children}
    </div>
  );
}
