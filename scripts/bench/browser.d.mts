// Types for what TypeScript code imports from browser.mjs (the bench itself is plain JavaScript).
import type { Page } from 'playwright-core';

/** ms and bytes of a plain read of `urls` in a worker of `page`: from the HTTP cache, or (`store`) from the app's store. */
export function plainRead(page: Page, urls: string[], store?: boolean): Promise<{ ms: number; bytes: number }>;
