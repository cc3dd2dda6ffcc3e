/**
 * The browser tests drive Debian's Chromium (never a downloaded browser). Before `npm test`:
 * if it is missing and we are root on Debian, install it with apt-get; otherwise say how.
 */
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    console.log(`[ensure-chromium] ${path} is missing: installing Debian's chromium with apt-get…`);
    execSync('apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium', { stdio: 'inherit' });
  } else {
    console.error(`[ensure-chromium] The browser tests need Chromium at ${path}. On Debian: sudo apt-get install -y chromium (or set CHROMIUM_PATH).`);
    process.exit(1);
  }
}
