// Typed errors for the GPU layer: no adapter, or a kernel asked to do something its buffers cannot hold.
export class GpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

export class GpuKernelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuKernelError';
  }
}
