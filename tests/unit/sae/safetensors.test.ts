import { describe, expect, it } from 'vitest';
import {
  f16BitsToFloat,
  floatToF16Bits,
  parseSafetensors,
  SafetensorsError,
  tensorToFloat32,
  writeSafetensors,
} from '../../../src/lib/sae';

function fileWithHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors reader', () => {
  it('round-trips F32, F16 and BF16 with metadata skipped', () => {
    const data = [1, -2.5, 0.333251953125, 65504, 1e-7, 0];
    const bytes = writeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 3], data },
        b: { dtype: 'F16', shape: [6], data },
        c: { dtype: 'BF16', shape: [3, 2], data },
      },
      { format: 'pt' },
    );
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['a', 'b', 'c']);
    expect(Array.from(tensorToFloat32(file.tensors.get('a')!))).toEqual(Array.from(Float32Array.from(data)));
    const f16 = tensorToFloat32(file.tensors.get('b')!);
    expect(f16[0]).toBe(1);
    expect(f16[1]).toBe(-2.5);
    expect(f16[2]).toBe(0.333251953125);
    expect(f16[3]).toBe(65504);
    expect(f16[4]).toBe(2 * 2 ** -24); // subnormal, rounded to nearest
    const bf16 = tensorToFloat32(file.tensors.get('c')!);
    expect(bf16[1]).toBe(-2.5);
    expect(Math.abs(bf16[2] - 0.333251953125)).toBeLessThan(2e-3);
    expect(file.tensors.get('c')!.shape).toEqual([3, 2]);
  });

  it('converts f16 bit patterns exactly', () => {
    expect(f16BitsToFloat(0x3c00)).toBe(1);
    expect(f16BitsToFloat(0xc000)).toBe(-2);
    expect(f16BitsToFloat(0x0001)).toBe(2 ** -24);
    expect(f16BitsToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(f16BitsToFloat(0x7e00))).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(floatToF16Bits(f16BitsToFloat(h))).toBe(h);
  });

  it('rejects a file shorter than the length field', () => {
    expect(() => parseSafetensors(new Uint8Array(5))).toThrow(SafetensorsError);
  });

  it('rejects a truncated file', () => {
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) } });
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated or lying/);
    expect(() => parseSafetensors(bytes.subarray(0, 20))).toThrow(/truncated/);
  });

  it('rejects a header whose offsets lie', () => {
    const beyond = fileWithHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8);
    expect(() => parseSafetensors(beyond)).toThrow(/"b" ends at byte 16 .* only 8 data bytes/);
    const overlap = fileWithHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12);
    expect(() => parseSafetensors(overlap)).toThrow(/overlap/);
    const wrongSize = fileWithHeader({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensors(wrongSize)).toThrow(/needs 6 bytes.*8 bytes/);
    const notJson = fileWithHeader({}, 0);
    notJson[8] = 0x7b + 1;
    expect(() => parseSafetensors(notJson)).toThrow(SafetensorsError);
  });

  it('rejects unsupported dtypes by name', () => {
    const f = fileWithHeader({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensors(f)).toThrow(/unsupported dtype "I64"; expected one of F32, F16, BF16/);
  });
});
