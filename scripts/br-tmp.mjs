import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
const variants = JSON.parse(process.argv[2]);
for (const v of variants) {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => m.type() === 'error' && console.log('console:', m.text().slice(0, 300)));
  await page.goto('http://localhost:4173/harness.html');
  await page.waitForSelector('body[data-harness=ready]');
  const t0 = Date.now();
  const info = await page.evaluate((v) => window.slmHarness.load({ source: { type: 'bundled', modelId: 'slm-pocket' }, dtype: 'fp32', device: 'wasm', threads: v.threads ?? 1, warmup: v.warmup }), v);
  const runs = [];
  for (let i = 0; i < (v.runs ?? 4); i++) {
    const r = await page.evaluate((n) => window.slmHarness.generate([{ role: 'user', content: 'What is the capital of France?' }], { maxNewTokens: n, minNewTokens: n, greedy: true }), i === 0 ? 64 : 128);
    runs.push(Math.round(r.metrics.engineDecodeTps));
  }
  console.log(JSON.stringify(v.warmup), 'load', Date.now() - t0, 'ms; warmup', info.warmupTokens, Math.round(info.warmupMs), 'ms end', Math.round(info.warmupDecodeTps ?? 0), '| runs (64 then 128):', runs.join(' '));
  await page.close();
}
await browser.close();
