// GPU device access and buffer helpers shared by every kernel. The device is normally ORT's (so kernels can bind
// its output buffers directly); tests may create their own.
import { GpuUnavailableError } from './errors';

export async function requestGpuDevice(label = 'playground.device'): Promise<GPUDevice> {
  if (typeof navigator === 'undefined' || !navigator.gpu) throw new GpuUnavailableError('WebGPU is not available in this browser (navigator.gpu is missing).');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new GpuUnavailableError('WebGPU is present but no adapter was found.');
  const want: (keyof GPUSupportedLimits)[] = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage'];
  const requiredLimits: Record<string, number> = {};
  for (const key of want) requiredLimits[key] = adapter.limits[key] as number;
  // As the app's device does (runtime/device.ts): kernels such as the top-k's subgroup scan use what is offered.
  const requiredFeatures = (['subgroups', 'timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ label, requiredLimits, requiredFeatures });
}

export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function createStorageBuffer(device: GPUDevice, label: string, byteLength: number): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(byteLength / 16) * 16), usage: STORAGE });
}

/** A storage buffer filled from `data` (padded to 16 bytes). */
export function uploadBuffer(device: GPUDevice, label: string, data: ArrayBufferView): GPUBuffer {
  const buffer = createStorageBuffer(device, label, data.byteLength);
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

export function uniformBuffer(device: GPUDevice, label: string, words: ArrayLike<number>, types: ('u32' | 'f32' | 'i32')[]): GPUBuffer {
  const buffer = device.createBuffer({ label, size: Math.max(16, Math.ceil((words.length * 4) / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  writeUniform(device, buffer, words, types);
  return buffer;
}

export function writeUniform(device: GPUDevice, buffer: GPUBuffer, words: ArrayLike<number>, types: ('u32' | 'f32' | 'i32')[]): void {
  const data = new ArrayBuffer(Math.ceil((words.length * 4) / 16) * 16 || 16);
  const view = new DataView(data);
  for (let i = 0; i < words.length; i++) {
    if (types[i] === 'f32') view.setFloat32(i * 4, words[i], true);
    else if (types[i] === 'i32') view.setInt32(i * 4, words[i], true);
    else view.setUint32(i * 4, words[i], true);
  }
  device.queue.writeBuffer(buffer, 0, data);
}

/** Copies `byteLength` bytes of `source` to the CPU. */
export async function readBuffer(device: GPUDevice, source: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({ label: 'readBuffer.staging', size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readBuffer.encoder' });
  encoder.copyBufferToBuffer(source, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readFloat32(device: GPUDevice, source: GPUBuffer, length: number, offset = 0): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, source, length * 4, offset));
}
