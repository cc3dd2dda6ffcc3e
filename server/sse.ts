/**
 * Server-sent events for a streamed completion: `data: <json>\n\n` per chunk, `data: [DONE]` at
 * the end. Writes go straight to the socket (no Nagle delay), and nothing is written once the
 * client has gone away.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorBody } from './errors';

export class SseWriter {
  constructor(private readonly res: ServerResponse) {}

  /** Sends the status line and headers. */
  open(headers: Record<string, string>): void {
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.res.flushHeaders();
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  send(data: object): void {
    if (!this.closed) this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** An error after the headers went out: OpenAI's clients read `data: {"error": …}` and throw it. */
  error(body: ErrorBody): void {
    this.send(body);
    this.end();
  }

  done(): void {
    if (!this.closed) this.res.write('data: [DONE]\n\n');
    this.end();
  }

  private end(): void {
    if (!this.closed) this.res.end();
  }
}
