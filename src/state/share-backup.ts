/**
 * The viewer's own setup, kept when they apply a shared one, so that "Back to my own setup"
 * restores it even after a reload: opening a link never loses what the user made.
 */
import { parseHostedSettings, type HostedSettings } from './hosted-settings';
import { parseSettings, type Settings } from './settings';

export const BACKUP_KEY = 'slm.beforeShare.v1';

export interface SetupBackup {
  settings: Settings;
  hosted: HostedSettings;
}

export function saveBackup(b: SetupBackup, store: Storage | null): void {
  try {
    // The first backup wins: applying a second link must not overwrite the user's own setup.
    if (store && store.getItem(BACKUP_KEY) === null) store.setItem(BACKUP_KEY, JSON.stringify(b));
  } catch {
    // storage blocked or full: the setup is still applied, only the restore button goes away
  }
}

export function readBackup(store: Storage | null): SetupBackup | null {
  let raw: string | null = null;
  try {
    raw = store?.getItem(BACKUP_KEY) ?? null;
  } catch {
    return null;
  }
  if (raw === null) return null;
  try {
    const data = JSON.parse(raw) as { settings?: unknown; hosted?: unknown };
    return { settings: parseSettings(JSON.stringify(data.settings ?? null)), hosted: parseHostedSettings(JSON.stringify(data.hosted ?? null)) };
  } catch {
    return null;
  }
}

export function clearBackup(store: Storage | null): void {
  try {
    store?.removeItem(BACKUP_KEY);
  } catch {
    // nothing to do
  }
}
