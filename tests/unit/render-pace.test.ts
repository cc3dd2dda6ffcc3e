/** When streamed text is rendered (src/compare/render-pace.ts). */
import { describe, expect, it } from 'vitest';
import { STREAM_PACED_MS, nextRenderAt, streamRenderIntervalMs } from '../../src/compare/render-pace';

describe('streamRenderIntervalMs', () => {
  it('renders every frame when no in-browser engine streams on the CPU (hosted only, WebGPU)', () => {
    expect(streamRenderIntervalMs(0, 1)).toBe(0);
    expect(streamRenderIntervalMs(0, 2)).toBe(0);
  });
  it('paces when the engine leaves the page fewer than 2 cores', () => {
    expect(streamRenderIntervalMs(2, 2)).toBe(STREAM_PACED_MS);
    expect(streamRenderIntervalMs(1, 2)).toBe(STREAM_PACED_MS);
    expect(streamRenderIntervalMs(3, 4)).toBe(STREAM_PACED_MS);
    expect(streamRenderIntervalMs(1, 0)).toBe(STREAM_PACED_MS);
  });
  it('renders every frame with 2 or more cores to spare', () => {
    expect(streamRenderIntervalMs(2, 4)).toBe(0);
    expect(streamRenderIntervalMs(4, 8)).toBe(0);
    expect(streamRenderIntervalMs(1, 16)).toBe(0);
  });
});

describe('nextRenderAt', () => {
  it('is now when unpaced, or when the last render is at least an interval old', () => {
    expect(nextRenderAt(990, 0, 1000)).toBe(1000);
    expect(nextRenderAt(-Infinity, 100, 1000)).toBe(1000);
    expect(nextRenderAt(900, 100, 1000)).toBe(1000);
  });
  it('is one interval after the last render otherwise', () => {
    expect(nextRenderAt(950, 100, 1000)).toBe(1050);
    expect(nextRenderAt(1000, 100, 1000)).toBe(1100);
  });
});
