// SAE weights on the GPU. W_enc is stored [dIn, columns] per chunk of latents, padded so each row is whole
// vec4<u32> groups (4 f32 latents, or 8 f16 latents packed in pairs for unpack2x16float); W_dec is stored per chunk
// of rows. Matrices larger than maxStorageBufferBindingSize are split into chunks rather than rejected.
import { floatToF16Bits } from '../../sae/safetensors';
import type { SaeWeights } from '../../sae/types';
import { createStorageBuffer, uploadBuffer } from '../device';
import { GpuKernelError } from '../errors';

export interface EncoderChunk {
  start: number;
  count: number;
  /** vec4<u32> groups per row. */
  groups: number;
  /** Latent columns per row including padding (groups × latents per group). */
  colsPad: number;
  buffer: GPUBuffer;
}

export interface DecoderChunk {
  start: number;
  count: number;
  buffer: GPUBuffer;
}

export interface SaeGpuWeightsOptions {
  /** Keep W_enc as packed f16 (default: when the file stored F16, so packing is exact). */
  packF16?: boolean;
  /** Override the device limit (tests force small values to exercise chunking). */
  maxBindingBytes?: number;
}

export class SaeGpuWeights {
  readonly f16: boolean;
  readonly latentsPerGroup: number;
  readonly encoderChunks: EncoderChunk[] = [];
  readonly decoderChunks: DecoderChunk[] = [];
  /** b_enc − b_dec·W_enc when the SAE subtracts b_dec from its input, else b_enc. */
  readonly encoderBias: GPUBuffer;
  readonly threshold: GPUBuffer;
  readonly decoderBias: GPUBuffer;

  constructor(
    readonly device: GPUDevice,
    readonly sae: SaeWeights,
    options: SaeGpuWeightsOptions = {},
  ) {
    const { dIn, dSae, applyBDecToInput } = sae.config;
    this.f16 = options.packF16 ?? sae.config.weightDtype === 'F16';
    this.latentsPerGroup = this.f16 ? 8 : 4;
    const maxBinding = options.maxBindingBytes ?? device.limits.maxStorageBufferBindingSize;
    const bytesPerColumn = dIn * (this.f16 ? 2 : 4);
    const lpg = this.latentsPerGroup;
    const maxCols = Math.floor(maxBinding / bytesPerColumn / lpg) * lpg;
    if (maxCols < lpg) {
      throw new GpuKernelError(`SAE W_enc column of ${bytesPerColumn * lpg} bytes exceeds the binding limit ${maxBinding} bytes; expected a device with larger storage bindings.`);
    }
    for (let start = 0; start < dSae; start += maxCols) {
      const count = Math.min(maxCols, dSae - start);
      const colsPad = Math.ceil(count / lpg) * lpg;
      const data = this.f16 ? packF16Columns(sae.wEnc, dIn, dSae, start, count, colsPad) : f32Columns(sae.wEnc, dIn, dSae, start, count, colsPad);
      const buffer = uploadBuffer(device, `SaeWeights.wEnc[${start}:${start + count}]`, data);
      this.encoderChunks.push({ start, count, groups: colsPad / lpg, colsPad, buffer });
    }
    const maxRows = Math.floor(maxBinding / (dIn * 4));
    if (maxRows < 1) throw new GpuKernelError(`SAE W_dec row of ${dIn * 4} bytes exceeds the binding limit ${maxBinding} bytes.`);
    for (let start = 0; start < dSae; start += maxRows) {
      const count = Math.min(maxRows, dSae - start);
      const buffer = uploadBuffer(device, `SaeWeights.wDec[${start}:${start + count}]`, sae.wDec.subarray(start * dIn, (start + count) * dIn));
      this.decoderChunks.push({ start, count, buffer });
    }
    const bias = new Float32Array(sae.bEnc);
    if (applyBDecToInput) {
      const acc = new Float64Array(dSae);
      for (let i = 0; i < dIn; i++) {
        const b = sae.bDec[i];
        if (b === 0) continue;
        for (let j = 0; j < dSae; j++) acc[j] += b * sae.wEnc[i * dSae + j];
      }
      for (let j = 0; j < dSae; j++) bias[j] -= acc[j];
    }
    this.encoderBias = uploadBuffer(device, 'SaeWeights.encoderBias', bias);
    this.threshold = sae.threshold ? uploadBuffer(device, 'SaeWeights.threshold', sae.threshold) : createStorageBuffer(device, 'SaeWeights.threshold(none)', dSae * 4);
    this.decoderBias = uploadBuffer(device, 'SaeWeights.bDec', sae.bDec);
  }

  get maxColsPad(): number {
    return Math.max(...this.encoderChunks.map((c) => c.colsPad));
  }

  destroy(): void {
    for (const c of this.encoderChunks) c.buffer.destroy();
    for (const c of this.decoderChunks) c.buffer.destroy();
    this.encoderBias.destroy();
    this.threshold.destroy();
    this.decoderBias.destroy();
  }
}

function f32Columns(w: Float32Array, dIn: number, dSae: number, start: number, count: number, colsPad: number): Float32Array {
  const out = new Float32Array(dIn * colsPad);
  for (let i = 0; i < dIn; i++) out.set(w.subarray(i * dSae + start, i * dSae + start + count), i * colsPad);
  return out;
}

function packF16Columns(w: Float32Array, dIn: number, dSae: number, start: number, count: number, colsPad: number): Uint32Array {
  const out = new Uint32Array((dIn * colsPad) / 2);
  for (let i = 0; i < dIn; i++) {
    for (let c = 0; c < count; c++) {
      const bits = floatToF16Bits(w[i * dSae + start + c]);
      const word = i * (colsPad / 2) + (c >> 1);
      out[word] |= c & 1 ? bits << 16 : bits;
    }
  }
  return out;
}
