// Buffer-to-buffer copy as a compute kernel (not copyBufferToBuffer, so it pays the same dispatch and binding
// costs as our kernels): the bandwidth bound for memory-bound kernels in benchmarks.
import { Kernel } from './kernel';
import copyWgsl from './copy.wgsl?raw';

export class CopyKernel {
  private kernel: Kernel;
  private bindGroup: GPUBindGroup;
  private groups: [number, number];

  constructor(device: GPUDevice, src: GPUBuffer, dst: GPUBuffer, byteLength: number) {
    this.kernel = new Kernel(device, { label: 'CopyKernel', code: copyWgsl });
    this.bindGroup = this.kernel.bind('bind', [
      { buffer: src, offset: 0, size: byteLength },
      { buffer: dst, offset: 0, size: byteLength },
    ]);
    const total = Math.ceil(byteLength / 16 / 256);
    const x = Math.min(total, 65535);
    this.groups = [x, Math.ceil(total / x)];
  }

  run(encoder: GPUCommandEncoder): void {
    this.kernel.dispatch(encoder, this.bindGroup, this.groups[0], this.groups[1]);
  }
}
