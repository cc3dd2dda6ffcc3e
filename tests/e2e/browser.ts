/**
 * The one place that launches Chromium for the e2e tests, so every test runs with the same flags.
 *
 * - The system Chromium (Debian's `chromium` package) is used; Playwright never downloads a browser.
 * - `--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start.
 * - No background traffic (component updates, sync, QUIC probes), and every host name except
 *   localhost resolves to "not found", so no test can reach the internet by accident: a test that
 *   needs the network fails the same way offline and online.
 * - WebGPU (opt-in): SwiftShader's software Vulkan adapter, correct but slow. Otherwise the GPU
 *   process is disabled and `navigator.gpu` grants no adapter.
 */
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader'];

export interface LaunchOptions {
  /** Enable WebGPU through SwiftShader (slow: keep WebGPU cases short). */
  webgpu?: boolean;
}

export function chromiumArgs(opts: LaunchOptions = {}): string[] {
  return [...COMMON_ARGS, ...(opts.webgpu ? WEBGPU_ARGS : ['--disable-gpu'])];
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  // chromium.launch creates (and removes) a fresh temporary profile per browser.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(opts), timeout: 60_000 });
}

/** Problems the page reported: uncaught exceptions and console errors (for assertions and failure messages). */
export interface PageLog {
  errors: string[];
  console: string[];
}

/** A fresh context (own localStorage and Cache Storage) and page, with its errors collected. */
export async function openPage(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page; log: PageLog }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log: PageLog = { errors: [], console: [] };
  page.on('pageerror', (e) => log.errors.push(`${e.name}: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') log.console.push(`[${m.type()}] ${m.text()}`);
  });
  page.on('worker', (w) => {
    w.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') log.console.push(`[worker ${m.type()}] ${m.text()}`);
    });
  });
  page.setDefaultTimeout(60_000);
  await page.goto(url, { waitUntil: 'load' });
  return { context, page, log };
}
