// Uniform buffers keyed by use: a pass that runs several times in one command encoder (once per weight chunk)
// needs one uniform per run, because queue.writeBuffer lands before the encoder is submitted.
import { writeUniform } from './device';

export type UniformType = 'u32' | 'f32' | 'i32';

export class UniformPool {
  private buffers = new Map<string, GPUBuffer>();
  constructor(
    private device: GPUDevice,
    private label: string,
  ) {}

  get(key: string, words: number[], types: UniformType[]): GPUBuffer {
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = this.device.createBuffer({
        label: `${this.label}.uniform.${key}`,
        size: Math.max(16, Math.ceil((words.length * 4) / 16) * 16),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      this.buffers.set(key, buffer);
    }
    writeUniform(this.device, buffer, words, types);
    return buffer;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

export const u32s = (n: number): UniformType[] => Array(n).fill('u32');
