// Renders public/favicon.svg to the PNG icons the web app manifest lists (192, 512, maskable 512),
// with the system Chromium. Run once after changing the icon: node tools/icons.mjs
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const svg = readFileSync('public/favicon.svg', 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const [size, name, pad] of [[192, 'icon-192.png', 0], [512, 'icon-512.png', 0], [512, 'icon-maskable-512.png', 0.1]]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  // Maskable icons keep their content inside the central 80% "safe zone" on a full-bleed background.
  const inner = Math.round(size * (1 - 2 * pad));
  await page.setContent(`<body style="margin:0;background:${pad ? '#2f5bd3' : 'transparent'};display:grid;place-items:center;height:${size}px">
    <div style="width:${inner}px;height:${inner}px">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</div></body>`);
  await page.screenshot({ path: `public/icons/${name}`, omitBackground: !pad });
  await page.close();
}
await browser.close();
