import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64 } from '../../src/lib/base64';

describe('base64', () => {
  it("is Node's standard base64, both ways, past one 32 KiB chunk", () => {
    const bytes = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 131 + 7) % 256);
    const text = bytesToBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(text)).toEqual(bytes);
    expect(bytesToBase64(new Uint8Array(0))).toBe('');
  });
});
