// Reads numpy's .npz (a zip of .npy arrays, as np.savez / np.savez_compressed write it) in the page: Gemma Scope 1
// ships its SAEs as params.npz. The zip is opened with fflate; each .npy is parsed by numpy's format spec
// (numpy/lib/format.py, "NEP 1": magic "\x93NUMPY", version, header length, a Python dict literal header).
import { unzipSync } from 'fflate';
import { SafetensorsError } from './errors';
import type { RawTensor, SafetensorsDtype, SafetensorsFile } from './safetensors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** numpy little-endian float descrs we read, and the safetensors dtype that stores the same bytes. */
const DESCR: Record<string, SafetensorsDtype | 'F64'> = { '<f4': 'F32', '<f2': 'F16', '<f8': 'F64', '|f4': 'F32' };

/**
 * Parses one .npy file into a tensor. Accepts format versions 1.0 (u16 header length) and 2.0/3.0 (u32), C order,
 * little-endian float32/float16/float64 (float64 is narrowed to float32). Throws SafetensorsError naming the array
 * and what was found for anything else (big-endian, Fortran order, integer or object arrays, truncation).
 */
export function parseNpy(bytes: Uint8Array, name: string): RawTensor {
  const what = `params.npz array "${name}"`;
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new SafetensorsError(`${what} is not a .npy file: expected the magic bytes \\x93NUMPY.`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) throw new SafetensorsError(`${what} is truncated: its header needs ${headerLength} bytes.`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = header.match(/'descr'\s*:\s*'([^']+)'/)?.[1];
  const fortran = header.match(/'fortran_order'\s*:\s*(True|False)/)?.[1];
  const shapeText = header.match(/'shape'\s*:\s*\(([^)]*)\)/)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new SafetensorsError(`${what}: unreadable .npy header ${JSON.stringify(header.trim())}.`);
  const dtype = DESCR[descr];
  if (!dtype) throw new SafetensorsError(`${what} has dtype "${descr}": expected little-endian float32, float16 or float64.`);
  if (fortran === 'True') throw new SafetensorsError(`${what} is stored in Fortran order: expected C order (np.ascontiguousarray before saving).`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart < count * size) {
    throw new SafetensorsError(`${what} is truncated: shape [${shape}] needs ${count * size} bytes, found ${bytes.length - dataStart}.`);
  }
  let data = bytes.subarray(dataStart, dataStart + count * size);
  if (dtype === 'F64') {
    const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = src.getFloat64(i * 8, true);
    data = new Uint8Array(out.buffer);
  } else if (data.byteOffset % size !== 0) {
    data = data.slice(); // typed-array views need aligned offsets
  }
  return { name, dtype: dtype === 'F64' ? 'F32' : dtype, shape, bytes: data };
}

/** Opens a .npz and parses every `.npy` member, keyed by its name without the extension. */
export function parseNpz(input: ArrayBuffer | Uint8Array, fileName = 'params.npz'): SafetensorsFile {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    throw new SafetensorsError(`${fileName} is not a readable zip archive (${(e as Error).message}): expected numpy's .npz layout.`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const [member, data] of Object.entries(members)) {
    if (!member.endsWith('.npy')) continue;
    const name = member.slice(0, -4);
    tensors.set(name, parseNpy(data, name));
  }
  if (tensors.size === 0) throw new SafetensorsError(`${fileName} holds no .npy arrays: expected w_enc, w_dec, b_enc, b_dec, threshold.`);
  return { tensors, metadata: {} };
}
