/**
 * Accessibility and layout checks for the e2e tests: axe-core on the page (every rule that runs
 * by default, plus WCAG 2.2's target-size), the screen sizes and colour schemes they run under,
 * screenshots for a person to look at (test-results/screenshots/, git-ignored), and measurements
 * of overflow and tap targets done in the page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export type Scheme = 'light' | 'dark';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

/** One violation, as a line a person can act on. */
export interface Finding {
  view: string;
  rule: string;
  impact: string;
  targets: string[];
  summary: string;
}

/** Runs axe on the page as it is; returns every violation (any impact) labelled with `view`. */
export async function axe(page: Page, view: string): Promise<Finding[]> {
  const r = await new AxeBuilder({ page }).options({ rules: { 'target-size': { enabled: true } } }).analyze();
  // A run that checked nothing would pass anything: contrast and names must have been checked.
  const checked = new Set([...r.passes, ...r.violations].map((x) => x.id));
  for (const rule of ['color-contrast', 'button-name', 'target-size']) {
    if (!checked.has(rule)) throw new Error(`axe did not check ${rule} on ${view} (passes: ${r.passes.length})`);
  }
  return r.violations.flatMap((v) =>
    v.nodes.map((n) => ({ view, rule: v.id, impact: v.impact ?? '', targets: n.target.map(String), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
  );
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

/**
 * Elements that stick out of the viewport sideways and are not inside something that scrolls or
 * clips sideways (a table in a scrolling box is fine; the page scrolling sideways is not).
 */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > vw + 1) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') return true;
      }
      return false;
    };
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if ((r.right > vw + 1 || r.left < -1) && !clipped(el)) out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${String(el.className)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
    return out;
  });
}

/**
 * Visible controls whose tap target is under `min` px in either direction. A checkbox or radio
 * inside a <label> is tapped through its label, so the label is measured.
 */
export async function smallTargets(page: Page, min = 24): Promise<string[]> {
  return page.evaluate((min) => {
    const out: string[] = [];
    const sel = 'button, a[href], input:not([type=hidden]), select, textarea, summary, [role=tab], [tabindex]:not([tabindex="-1"])';
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
      const box = el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio') && el.closest('label') ? el.closest('label')! : el;
      const r = box.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not shown
      if (getComputedStyle(el).visibility === 'hidden') continue;
      // Big scrolling regions and lists are not tap targets.
      if (el.tagName === 'OL' || el.getAttribute('role') === 'region') continue;
      if (r.width < min - 0.5 || r.height < min - 0.5) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  }, min);
}

/** Whether the element's box lies wholly inside the viewport. */
export async function inViewport(page: Page, selector: string): Promise<{ inside: boolean; rect: { top: number; bottom: number; left: number; right: number }; vh: number }> {
  return page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    const vh = window.innerHeight;
    const vw = document.documentElement.clientWidth;
    return { inside: r.top >= -1 && r.bottom <= vh + 1 && r.left >= -1 && r.right <= vw + 1, rect: { top: r.top, bottom: r.bottom, left: r.left, right: r.right }, vh };
  });
}

/** The focused element, described by its data-testid, id or role (for assertions on focus). */
export async function focused(page: Page): Promise<{ testid: string | null; id: string; role: string | null; tag: string; text: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      testid: el?.getAttribute('data-testid') ?? null,
      id: el?.id ?? '',
      role: el?.getAttribute('role') ?? null,
      tag: el?.tagName.toLowerCase() ?? '',
      text: (el?.textContent ?? '').trim().slice(0, 60),
    };
  });
}

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`; fails after `max` presses. */
export async function tabTo(page: Page, selector: string, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  const max = opts.max ?? 80;
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
  }
  const f = await focused(page);
  throw new Error(`${selector} not reached with ${max} presses of ${opts.back ? 'Shift+Tab' : 'Tab'} (focus on ${JSON.stringify(f)})`);
}
