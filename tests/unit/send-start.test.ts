/** Starting a send: every request starts in the same tick; the send is shown once all have left (or ended), or at the next task. */
import { describe, expect, it } from 'vitest';
import { nextTask, sentOrDeadline, startAll, type Start } from '../../src/compare/send-start';

/** A start whose request leaves after `leaveAfter` microtask hops (as the SDK's fetch() does), then answers on `answer()`. */
function fakeRequest(log: string[], name: string, leaveAfter: number) {
  let answer: (v: string) => void = () => {};
  const start: Start<string> = async (onSent) => {
    log.push(`${name}: start`);
    for (let i = 0; i < leaveAfter; i++) await Promise.resolve();
    log.push(`${name}: fetch`);
    onSent();
    return new Promise<string>((r) => (answer = r));
  };
  return { start, answer: (v: string) => answer(v) };
}

describe('startAll', () => {
  it('calls every start before returning, in order', () => {
    const log: string[] = [];
    const a = fakeRequest(log, 'a', 5);
    const b = fakeRequest(log, 'b', 0);
    startAll([a.start, b.start]);
    log.push('returned');
    expect(log).toEqual(['a: start', 'b: start', 'b: fetch', 'returned']);
  });

  it('`sent` resolves after the last request left, however many microtasks that took, and before any answer', async () => {
    const log: string[] = [];
    const a = fakeRequest(log, 'a', 12);
    const b = fakeRequest(log, 'b', 3);
    const s = startAll([a.start, b.start]);
    // A render queued in the click (a microtask queued now) would run before the 12-hop fetch: this is the order the app avoids.
    void Promise.resolve().then(() => log.push('render queued in the click'));
    await s.sent.then(() => log.push('sent'));
    expect(log.indexOf('sent')).toBeGreaterThan(log.indexOf('a: fetch'));
    expect(log.indexOf('sent')).toBeGreaterThan(log.indexOf('b: fetch'));
    expect(log.indexOf('render queued in the click')).toBeLessThan(log.indexOf('a: fetch'));
    a.answer('A');
    b.answer('B');
    expect(await Promise.all(s.results)).toEqual(['A', 'B']);
  });

  it('a request that fails before it leaves (or a start that throws) does not hold `sent` back', async () => {
    const log: string[] = [];
    const ok = fakeRequest(log, 'ok', 2);
    const fails: Start<string> = async () => {
      await Promise.resolve();
      throw new Error('refused');
    };
    const throws: Start<string> = () => {
      throw new Error('sync');
    };
    const s = startAll([ok.start, fails, throws]);
    await expect(sentOrDeadline(s.sent, new Promise<void>(() => {}))).resolves.toBe('sent');
    await expect(s.results[1]).rejects.toThrow('refused');
    await expect(s.results[2]).rejects.toThrow('sync');
  });

  it('a second onSent (a retried request) changes nothing', async () => {
    const start: Start<number> = async (onSent) => {
      onSent();
      onSent();
      return 1;
    };
    const s = startAll([start]);
    await s.sent;
    expect(await s.results[0]).toBe(1);
  });
});

describe('sentOrDeadline', () => {
  it('waits for the requests when they leave within the task', async () => {
    const log: string[] = [];
    const s = startAll([fakeRequest(log, 'a', 20).start]);
    expect(await sentOrDeadline(s.sent, nextTask())).toBe('sent');
  });

  it('gives up at the next task for an engine that never reports onSent (or must first load or ask the endpoint)', async () => {
    const silent: Start<string> = () => new Promise<string>(() => {});
    const s = startAll([silent]);
    expect(await sentOrDeadline(s.sent, nextTask())).toBe('deadline');
  });
});
