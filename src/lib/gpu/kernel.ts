// A compute pipeline with a label, WGSL `override` constants and a bind-group helper: the small common part of
// every pass class in this folder.
export interface KernelOptions {
  label: string;
  code: string;
  constants?: Record<string, number>;
  entryPoint?: string;
}

export class Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly label: string;

  constructor(
    readonly device: GPUDevice,
    options: KernelOptions,
  ) {
    this.label = options.label;
    const module = device.createShaderModule({ label: `${options.label}.module`, code: options.code });
    this.pipeline = device.createComputePipeline({
      label: `${options.label}.pipeline`,
      layout: 'auto',
      compute: { module, entryPoint: options.entryPoint ?? 'main', constants: options.constants },
    });
  }

  /** Bind group 0 from buffers in binding order (a `{buffer, offset, size}` entry binds a range). */
  bind(label: string, buffers: (GPUBuffer | GPUBufferBinding)[]): GPUBindGroup {
    return this.device.createBindGroup({
      label: `${this.label}.${label}`,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
    });
  }

  dispatch(encoder: GPUCommandEncoder, bindGroup: GPUBindGroup, x: number, y = 1, z = 1): void {
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }
}
