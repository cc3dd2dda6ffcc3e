/** The idle Load status: it says when the next Load's worker has ONNX Runtime set up already, and for which device. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { LoadStatus } from '../../src/ui/LoadStatus';

describe('LoadStatus, no model loaded', () => {
  it('names the prepared device, and says nothing of it when nothing was prepared', () => {
    const prepared = renderToStaticMarkup(<LoadStatus state={{ status: 'idle' }} prepared="wasm" />);
    expect(prepared).toContain('data-runtime="prepared"');
    expect(prepared).toContain('ONNX Runtime is set up for WASM already');
    const plain = renderToStaticMarkup(<LoadStatus state={{ status: 'idle' }} />);
    expect(plain).not.toContain('data-runtime');
    expect(plain).toContain('No model loaded.');
    expect(plain).not.toContain('ONNX Runtime');
  });
});
