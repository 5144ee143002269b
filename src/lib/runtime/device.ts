// WebGPU detection and the GPUDevice we share with ORT. We create the device ourselves (with the adapter's
// largest buffer limits) so the SAE kernels and ORT use the same one, and so a lost device can be replaced.
import type { DeviceInfo } from '../engine/api';

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: DeviceInfo;
}

/** The adapter a device would be opened on (no device yet), or the reason WebGPU is unavailable. Never throws. */
export async function requestGpuAdapter(): Promise<GPUAdapter | { reason: string }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { reason: 'This browser does not expose WebGPU (navigator.gpu is missing).' };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `WebGPU adapter request failed: ${(e as Error).message}` };
  }
  if (!adapter) return { reason: 'WebGPU is present but no GPU adapter is available (blocklisted or disabled).' };
  return adapter;
}

/**
 * Returns a device, or the reason WebGPU is unavailable. Never throws. `probed` is an adapter from
 * `requestGpuAdapter` not yet used for a device (an adapter gives one device only); else a new one is requested.
 */
export async function acquireGpu(probed?: GPUAdapter): Promise<GpuContext | { reason: string }> {
  const requested = probed ?? (await requestGpuAdapter());
  if ('reason' in requested) return requested;
  const adapter: GPUAdapter = requested;
  const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
  const l = adapter.limits;
  try {
    const device = await adapter.requestDevice({
      label: 'Playground.device',
      requiredFeatures,
      requiredLimits: {
        maxBufferSize: l.maxBufferSize,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    });
    return { adapter, device, info: { backend: 'webgpu', adapter: adapterName(adapter) } };
  } catch (e) {
    return { reason: `WebGPU device request failed: ${(e as Error).message}` };
  }
}

function adapterName(adapter: GPUAdapter): string {
  const i = adapter.info;
  return [i?.vendor, i?.architecture, i?.device, i?.description].filter(Boolean).join(' ') || 'unknown GPU';
}

/**
 * Whether the adapter offers WebGPU's `shader-f16` (float16 graphs need it on the GPU), without opening a device;
 * the check transformers.js makes before it runs an fp16 model on WebGPU (src/utils/dtypes.js, isWebGpuFp16Supported).
 */
export async function probeShaderF16(): Promise<{ adapter?: string; shaderF16: boolean }> {
  const adapter = await (globalThis.navigator as Navigator | undefined)?.gpu?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  return adapter ? { adapter: adapterName(adapter), shaderF16: adapter.features.has('shader-f16') } : { shaderF16: false };
}
