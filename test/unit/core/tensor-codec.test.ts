import { describe, expect, it } from 'vitest';
import { OmniPersonaError } from '../../../src/core/errors.js';
import { decodeTensors, encodeTensors } from '../../../src/core/sync/tensor-codec.js';

const weights = {
  a: { shape: [2, 3], data: Float32Array.of(0.5, -1.25, 3, 1e-3, -7.5, 0) },
  b: { shape: [4], data: Float32Array.of(1, 2, 3, 4) },
};

function expectCode(fn: () => unknown, code: string, text: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OmniPersonaError);
    expect((error as OmniPersonaError).code).toBe(code);
    expect((error as Error).message).toContain(text);
    return;
  }
  throw new Error('expected a throw');
}

describe('tensor codec', () => {
  it('round-trips float32 exactly, with metadata', () => {
    const bytes = encodeTensors(weights, { version: '7' });
    const decoded = decodeTensors(bytes);
    expect(decoded.metadata.version).toBe('7');
    expect(decoded.tensors.a?.shape).toEqual([2, 3]);
    expect([...(decoded.tensors.a?.data ?? [])]).toEqual([...weights.a.data]);
    expect([...(decoded.tensors.b?.data ?? [])]).toEqual([1, 2, 3, 4]);
  });

  it('reads a payload wherever it lies in memory, aligned or not', () => {
    const bytes = encodeTensors(weights, {});
    for (const offset of [0, 1, 3, 4]) {
      const copy = new Uint8Array(bytes.length + offset);
      copy.set(bytes, offset);
      const decoded = decodeTensors(copy.subarray(offset));
      expect([...(decoded.tensors.a?.data ?? [])]).toEqual([...weights.a.data]);
      // A copy of its own: writing to it leaves the payload as it was.
      (decoded.tensors.b as { data: Float32Array }).data[0] = 99;
      expect([...(decodeTensors(copy.subarray(offset)).tensors.b?.data ?? [])]).toEqual([1, 2, 3, 4]);
    }
  });

  it('writes the safetensors layout: u64 header length, JSON header, aligned data', () => {
    const bytes = encodeTensors(weights);
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(length % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    expect(header.a).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.b).toEqual({ dtype: 'F32', shape: [4], data_offsets: [24, 40] });
    expect(bytes.length).toBe(8 + length + 40);
  });

  it('halves the size with float16 and quarters it with int8, within their precision', () => {
    const big = { w: { shape: [1000], data: Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 2) } };
    const f32 = encodeTensors(big);
    const f16 = encodeTensors(big, {}, 'F16');
    const i8 = encodeTensors(big, {}, 'I8');
    expect(f16.length).toBeLessThan(f32.length * 0.55);
    expect(i8.length).toBeLessThan(f32.length * 0.3);
    const maxError = (bytes: Uint8Array) => {
      const data = decodeTensors(bytes).tensors.w?.data ?? new Float32Array();
      return Math.max(...big.w.data.map((value, i) => Math.abs(value - (data[i] ?? Number.NaN))));
    };
    expect(maxError(f16)).toBeLessThan(2e-3);
    expect(maxError(i8)).toBeLessThan(2 / 127);
  });

  it('keeps tiny and huge values sensible in float16', () => {
    const data = Float32Array.of(1e-6, -3e-5, 65504, 1e6, 0);
    const decoded = decodeTensors(encodeTensors({ x: { shape: [5], data } }, {}, 'F16')).tensors.x?.data;
    expect(decoded?.[0]).toBeCloseTo(1e-6, 7);
    expect(decoded?.[1]).toBeCloseTo(-3e-5, 6);
    expect(decoded?.[2]).toBe(65504);
    expect(decoded?.[3]).toBe(Number.POSITIVE_INFINITY);
    expect(decoded?.[4]).toBe(0);
  });

  it('refuses truncated, malformed and oversized payloads', () => {
    const bytes = encodeTensors(weights);
    expectCode(() => decodeTensors(bytes.subarray(0, 4)), 'INVALID_PAYLOAD', 'shorter');
    expectCode(() => decodeTensors(bytes.subarray(0, bytes.length - 4)), 'INVALID_PAYLOAD', 'byte range');
    expectCode(() => decodeTensors(bytes, { maxBytes: 16 }), 'INVALID_PAYLOAD', 'exceeds');
    const liar = bytes.slice();
    new DataView(liar.buffer).setBigUint64(0, 1n << 40n, true);
    expectCode(() => decodeTensors(liar), 'INVALID_PAYLOAD', 'runs past');
    const garbage = bytes.slice();
    garbage[9] = 0x7b; // '{' twice: not JSON
    garbage[8] = 0x7b;
    expectCode(() => decodeTensors(garbage), 'INVALID_PAYLOAD', 'not JSON');
  });

  it('refuses a header whose offsets or dtypes lie', () => {
    const header = JSON.stringify({ x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } });
    const body = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + body.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(body.length), true);
    bytes.set(body, 8);
    expectCode(() => decodeTensors(bytes), 'INVALID_PAYLOAD', 'unsupported dtype');
  });
});
