// Reads (and, for tests and exports, writes) the safetensors container: an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian bytes.
import { SafetensorsError } from './errors';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
export const SUPPORTED_DTYPES = Object.keys(BYTES_PER_ELEMENT) as SafetensorsDtype[];

export interface RawTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes, a view into the file (no copy). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export function parseSafetensors(input: ArrayBuffer | Uint8Array, fileName = 'safetensors file'): SafetensorsFile {
  const file = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (file.byteLength < 8) {
    throw new SafetensorsError(`${fileName} is truncated: expected at least 8 bytes of header length, found ${file.byteLength}.`);
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`${fileName}: header length ${headerLength} bytes is implausible (limit ${MAX_HEADER_BYTES}); not a safetensors file?`);
  }
  if (8 + headerLength > file.byteLength) {
    throw new SafetensorsError(
      `${fileName} is truncated: header claims ${headerLength} bytes but only ${file.byteLength - 8} follow the length field.`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new SafetensorsError(`${fileName}: header is not valid JSON (${(e as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${fileName}: header must be a JSON object, found ${Array.isArray(header) ? 'an array' : typeof header}.`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = file.byteLength - dataStart;
  const tensors = new Map<string, RawTensor>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new SafetensorsError(`${fileName}: entry "${name}" is not an object.`);
    const dtype = e.dtype as SafetensorsDtype;
    if (!(typeof dtype === 'string' && dtype in BYTES_PER_ELEMENT)) {
      throw new SafetensorsError(
        `${fileName}: tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)}; expected one of ${SUPPORTED_DTYPES.join(', ')}.`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${fileName}: tensor "${name}" has invalid shape ${JSON.stringify(shape)}.`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new SafetensorsError(`${fileName}: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}.`);
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
    if (end < begin || end - begin !== expectedBytes) {
      throw new SafetensorsError(
        `${fileName}: tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expectedBytes} bytes, header gives data_offsets [${begin}, ${end}] = ${end - begin} bytes.`,
      );
    }
    if (end > dataLength) {
      throw new SafetensorsError(
        `${fileName}: tensor "${name}" ends at byte ${end} of the data section, but the file holds only ${dataLength} data bytes (truncated or lying header).`,
      );
    }
    ranges.push({ name, begin, end });
    tensors.set(name, { name, dtype, shape: shape as number[], bytes: file.subarray(dataStart + begin, dataStart + end) });
  }
  ranges.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) {
      throw new SafetensorsError(
        `${fileName}: tensors "${ranges[i - 1].name}" [${ranges[i - 1].begin}, ${ranges[i - 1].end}) and "${ranges[i].name}" [${ranges[i].begin}, ${ranges[i].end}) overlap.`,
      );
    }
  }
  return { tensors, metadata };
}

export function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Round-to-nearest-even f32 → f16 bits (used to write F16 fixtures and to pack F16 weights for the GPU). */
export function floatToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Decodes a tensor to Float32 (copying; F32 data may sit at an unaligned offset). */
export function tensorToFloat32(t: RawTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  if (t.dtype === 'F32') {
    if (t.bytes.byteOffset % 4 === 0) out.set(new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n));
    else for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (t.dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = f16BitsToFloat(view.getUint16(i * 2, true));
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | ArrayLike<number>;
}

/** Writes a safetensors file (tensors in insertion order, 8-byte aligned header as the reference writer does). */
export function writeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const [, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      const v = t.data[i];
      if (t.dtype === 'F32') {
        view.setFloat32(p, v, true);
        p += 4;
      } else if (t.dtype === 'F16') {
        view.setUint16(p, floatToF16Bits(v), true);
        p += 2;
      } else {
        f32Scratch[0] = v;
        view.setUint16(p, u32Scratch[0] >>> 16, true);
        p += 2;
      }
    }
  }
  return out;
}
