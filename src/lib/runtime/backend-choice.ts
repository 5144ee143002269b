// Which backend `auto` runs a model on. A software WebGPU adapter (SwiftShader, llvmpipe, WARP) is a CPU
// rasteriser: the same CPU runs ORT's WASM kernels about forty times faster (Voices q4 on 2 cores: 36 vs 0.9 tok/s),
// so it goes to WASM. A recognised GPU vendor goes to WebGPU. An adapter that says too little to tell is decided by
// a short measured race of the two sessions at load (`raceDecoders`).
import type { DecoderSession } from './session';

/** What `auto` does with the adapter it found, and why, in words for the device badge. */
export type AdapterVerdict =
  | { choose: 'wasm'; why: string }
  | { choose: 'webgpu'; why: string }
  | { choose: 'race'; why: string };

/** The fields of `GPUAdapterInfo` we read (all optional: browsers may hide them). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** `GPUAdapterInfo.isFallbackAdapter` (WebGPU spec; older Chromium had it on `GPUAdapter`). */
  isFallbackAdapter?: boolean;
}

// Software renderers by the names their drivers report: SwiftShader (Chromium: architecture "swiftshader"),
// Mesa llvmpipe/lavapipe/softpipe, Microsoft's WARP ("Microsoft Basic Render Driver").
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|\bwarp\b|software/i;
// PCI vendor names Chromium reports in `GPUAdapterInfo.vendor` for hardware GPUs.
const HARDWARE_VENDORS = /^(nvidia|amd|ati|intel|apple|qualcomm|arm|imagination|img|samsung|broadcom|microsoft-qualcomm)$/i;

/** Decides from the adapter's own description; pure, so the rule is unit-tested. */
export function classifyAdapter(facts: AdapterFacts): AdapterVerdict {
  const name = [facts.vendor, facts.architecture, facts.device, facts.description].filter(Boolean).join(' ');
  if (facts.isFallbackAdapter || SOFTWARE.test(name))
    return {
      choose: 'wasm',
      why: `the only WebGPU adapter is a software renderer (${name || 'fallback adapter'}): the CPU runs the model faster on WASM`,
    };
  if (facts.vendor && HARDWARE_VENDORS.test(facts.vendor.trim()))
    return { choose: 'webgpu', why: `a hardware GPU (${name})` };
  return { choose: 'race', why: `the adapter (${name || 'no details given'}) is not recognised: measured at load` };
}

/** Reads `AdapterFacts` from a live adapter (either place Chromium has kept `isFallbackAdapter`). */
export function adapterFacts(adapter: GPUAdapter): AdapterFacts {
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined;
  const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info?.vendor,
    architecture: info?.architecture,
    device: info?.device,
    description: info?.description,
    isFallbackAdapter: info?.isFallbackAdapter ?? legacy,
  };
}

/** Decode steps per second of each session on the same prompt, measured in interleaved rounds. */
export interface RaceResult {
  wasmTps: number;
  webgpuTps: number;
}

/**
 * Times a few one-token decode steps (after an 8-token prefill) on both sessions, alternating, best round each.
 * Both sessions must be warmed up already (shaders compiled); both are reset afterwards. About 2 × 3 × 4 steps.
 */
export async function raceDecoders(wasm: DecoderSession, webgpu: DecoderSession, token: number, rounds = 3, steps = 4): Promise<RaceResult> {
  const time = async (decoder: DecoderSession): Promise<number> => {
    decoder.reset();
    await decoder.step({ ids: [Array(8).fill(token)] }, true);
    const start = performance.now();
    for (let i = 0; i < steps; i++) await decoder.step({ ids: [[token]] }, true);
    const ms = performance.now() - start;
    decoder.reset();
    return (steps * 1000) / Math.max(ms, 1e-3);
  };
  let wasmTps = 0;
  let webgpuTps = 0;
  for (let r = 0; r < rounds; r++) {
    wasmTps = Math.max(wasmTps, await time(wasm));
    webgpuTps = Math.max(webgpuTps, await time(webgpu));
  }
  return { wasmTps, webgpuTps };
}
