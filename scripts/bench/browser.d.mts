// Types for what TypeScript code imports from browser.mjs (the bench itself is plain JavaScript).
import type { Page } from 'playwright-core';

/** ms and bytes of a plain read of `urls` in a worker of `page`: from the HTTP cache, or (`store`) from the app's store. */
export function plainRead(page: Page, urls: string[], store?: boolean): Promise<{ ms: number; bytes: number }>;

/** ms and bytes of a plain download of `urls` from their host in a worker of `page` (no HTTP cache either way). */
export function plainDownload(page: Page, urls: string[]): Promise<{ ms: number; bytes: number }>;
