import { describe, expect, it } from 'vitest';
import { chooseOrtFlavor, detectOrtFeatures, parseOrtFlavor } from '../../../src/lib/runtime/ort-flavor';

describe('detectOrtFeatures', () => {
  it('sees JSPI only where both WebAssembly.Suspending and WebAssembly.promising are functions', () => {
    expect(detectOrtFeatures({ WebAssembly: { Suspending: class {}, promising: () => {} } })).toEqual({ suspending: true, promising: true });
    expect(detectOrtFeatures({ WebAssembly: { Suspending: class {} } })).toEqual({ suspending: true, promising: false });
    expect(detectOrtFeatures({ WebAssembly: { promising: () => {} } })).toEqual({ suspending: false, promising: true });
    expect(detectOrtFeatures({ WebAssembly: { Suspending: {}, promising: 1 } })).toEqual({ suspending: false, promising: false });
    expect(detectOrtFeatures({ WebAssembly: {} })).toEqual({ suspending: false, promising: false });
    expect(detectOrtFeatures({})).toEqual({ suspending: false, promising: false });
  });

  it('reads this context by default (Node has WebAssembly; JSPI in Node needs a flag before 25)', () => {
    const wasm = WebAssembly as unknown as { Suspending?: unknown; promising?: unknown };
    expect(detectOrtFeatures()).toEqual({ suspending: typeof wasm.Suspending === 'function', promising: typeof wasm.promising === 'function' });
  });
});

describe('chooseOrtFlavor', () => {
  it('picks the JSPI build with both entry points and the Asyncify build otherwise', () => {
    expect(chooseOrtFlavor({ suspending: true, promising: true })).toBe('jspi');
    expect(chooseOrtFlavor({ suspending: true, promising: false })).toBe('asyncify');
    expect(chooseOrtFlavor({ suspending: false, promising: true })).toBe('asyncify');
    expect(chooseOrtFlavor({ suspending: false, promising: false })).toBe('asyncify');
  });

  it('lets a forced build win either way, and treats null as not forced', () => {
    expect(chooseOrtFlavor({ suspending: true, promising: true }, 'asyncify')).toBe('asyncify');
    expect(chooseOrtFlavor({ suspending: false, promising: false }, 'jspi')).toBe('jspi');
    expect(chooseOrtFlavor({ suspending: true, promising: true }, null)).toBe('jspi');
  });
});

describe('parseOrtFlavor', () => {
  it('accepts the two build names and nothing else', () => {
    expect(parseOrtFlavor('jspi')).toBe('jspi');
    expect(parseOrtFlavor('asyncify')).toBe('asyncify');
    for (const v of ['', 'JSPI', 'webgpu', 'jsep', null, undefined]) expect(parseOrtFlavor(v)).toBeNull();
  });
});
