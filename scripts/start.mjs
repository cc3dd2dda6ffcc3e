/**
 * npm start: builds the app, serves it (http://localhost:5173, cross-origin isolated) and starts
 * the reference server (http://127.0.0.1:8787/v1) that the hosted pane talks to. No keys, no
 * network. Ctrl+C stops both.
 */
import { spawn } from 'node:child_process';
import { build, preview } from 'vite';

const port = Number(process.env.PORT ?? 5173);
await build({ logLevel: 'warn' });
const server = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'server/main.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
const app = await preview({ preview: { port, strictPort: true } });
console.log(`\n  SLM Playground: http://localhost:${port}/   (reference server: http://127.0.0.1:8787/v1)\n`);

const stop = () => {
  server.kill('SIGTERM');
  app.httpServer.close(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
server.on('exit', (code) => {
  if (code) console.error(`[start] the reference server exited with code ${code}; the app keeps running (local model only).`);
});
