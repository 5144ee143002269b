import { describe, expect, it } from 'vitest';
import { classifyAdapter } from '../../../src/lib/runtime/backend-choice';

describe('classifyAdapter (what auto does with the adapter it finds)', () => {
  it('sends software renderers to WASM, by name or by the fallback flag', () => {
    // Chromium's SwiftShader adapter as reported here (RESEARCH.md): vendor google, architecture swiftshader.
    const swiftshader = classifyAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' });
    expect(swiftshader.choose).toBe('wasm');
    expect(swiftshader.why).toContain('google swiftshader');
    expect(classifyAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).choose).toBe('wasm');
    expect(classifyAdapter({ vendor: 'mesa', description: 'lavapipe' }).choose).toBe('wasm');
    expect(classifyAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }).choose).toBe('wasm');
    expect(classifyAdapter({ vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true }).choose).toBe('wasm');
  });

  it('sends recognised GPU vendors to WebGPU', () => {
    for (const vendor of ['nvidia', 'amd', 'intel', 'apple', 'qualcomm', 'arm', 'NVIDIA'])
      expect(classifyAdapter({ vendor, architecture: 'x' }).choose, vendor).toBe('webgpu');
    expect(classifyAdapter({ vendor: 'nvidia', device: 'nvidia-h200' }).why).toBe('a hardware GPU (nvidia nvidia-h200)');
  });

  it('races what it cannot tell: hidden details, unknown vendors', () => {
    expect(classifyAdapter({}).choose).toBe('race');
    expect(classifyAdapter({ vendor: '', architecture: '' }).why).toContain('no details given');
    expect(classifyAdapter({ vendor: 'mesa', architecture: 'rdna-3' }).choose).toBe('race');
  });
});
