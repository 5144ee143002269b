import { describe, expect, it } from 'vitest';
import { keepPageKeys, readBackendPreference } from '../../../src/lib/ui/backend-preference';

describe('the backend URL key', () => {
  it('reads auto, webgpu and wasm, any case; absent or empty is auto', () => {
    expect(readBackendPreference('?p=hi')).toEqual({ backend: 'auto' });
    expect(readBackendPreference('?backend=')).toEqual({ backend: 'auto' });
    expect(readBackendPreference('?backend=wasm')).toEqual({ backend: 'wasm' });
    expect(readBackendPreference('?v=1&backend=WebGPU')).toEqual({ backend: 'webgpu' });
  });

  it('falls back to auto with a message on anything else', () => {
    const r = readBackendPreference('?backend=cuda');
    expect(r.backend).toBe('auto');
    expect(r.warning).toBe('backend=cuda is not one of auto, webgpu, wasm; choosing automatically.');
  });

  it('survives the experiment rewriting the address, and is not added when absent', () => {
    expect(keepPageKeys('v=1&p=hi&seed=7', '?v=1&p=old&backend=wasm')).toBe('v=1&p=hi&seed=7&backend=wasm');
    expect(keepPageKeys('v=1&p=hi&seed=7', '?v=1&p=old')).toBe('v=1&p=hi&seed=7');
  });
});
