// `npm run server` end to end: tsx server/main.ts as a child process on a free port.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const TSX = path.resolve('node_modules/.bin/tsx');
let child: ChildProcessWithoutNullStreams | null = null;

afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
});

/** Starts the server and resolves with its base URL once it logs "listening on". */
function start(args: string[]): Promise<{ baseURL: string; output: () => string }> {
  const proc = spawn(TSX, ['server/main.ts', '--port', '0', '--threads', '1', ...args], { env: { ...process.env, SLM_SERVER_API_KEY: '' } });
  child = proc;
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 45_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+\/v1)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ baseURL: m[1], output: () => out });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

describe('server/main.ts', () => {
  it('starts, serves, logs each request without the key, and stops on SIGTERM', async () => {
    const KEY = 'sk-cli-secret-987654321';
    const { baseURL, output } = await start(['--model', 'slm-pocket', '--api-key', KEY]);
    expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const health = await fetch(baseURL.replace(/\/v1$/, '/health'));
    expect(await health.json()).toEqual({ status: 'ok', model: 'slm-pocket' });
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slm-pocket', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    const denied = await fetch(`${baseURL}/models`, { headers: { authorization: 'Bearer nope' } });
    expect(denied.status).toBe(401);
    const proc = child;
    if (!proc) throw new Error('no child');
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const log = output();
    expect(log).toContain(`${id} 200 json`);
    expect(log).toContain('API key required');
    expect(log).not.toContain(KEY);
  });

  it('exits with a usage message on a bad flag', async () => {
    await expect(start(['--dtype', 'int3'])).rejects.toThrow(/exited with 2[\s\S]*--dtype/);
  });
});
