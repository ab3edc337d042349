import { OmniPersonaError } from '../errors.js';
import { tensorSize, type WeightSet } from '../model/weights.js';

/** One of each for every header: a server reads one per update, and making a codec costs more than using it. */
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/**
 * Weights on the wire and on disk, in the safetensors layout: an 8-byte little-endian header length,
 * a JSON header naming each tensor's dtype, shape and byte range, then the little-endian tensor bytes.
 * Written by hand because the format is tiny and the reference implementation is Rust/Python only.
 *
 * `F32` is exact; `F16` halves the size; `I8` quarters it with one float scale per tensor
 * (symmetric quantisation), kept in `__metadata__` as `scale.<name>`. Rounding to nearest suits
 * weights; an update that is averaged with others rounds stochastically instead (`random`), so that
 * its expected value is exact and the rounding errors of many devices cancel out in the mean.
 */
export type WireDtype = 'F32' | 'F16' | 'I8';

export interface EncodedTensors {
  tensors: WeightSet;
  metadata: Record<string, string>;
  /** Each tensor's dtype on the wire. */
  dtypes: Record<string, WireDtype>;
}

export interface DecodeLimits {
  /** Refuse payloads larger than this. @default 64 MiB */
  maxBytes?: number;
  /** Refuse more tensors than this. @default 64 */
  maxTensors?: number;
}

const BYTES: Record<WireDtype, number> = { F32: 4, F16: 2, I8: 1 };
const ALIGN = 8;

export interface EncodeOptions {
  /** Rounds `I8` values stochastically (unbiased) with this uniform source; to nearest when omitted. */
  random?: () => number;
}

export function encodeTensors(
  tensors: WeightSet,
  metadata: Record<string, string> = {},
  dtype: WireDtype = 'F32',
  { random }: EncodeOptions = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = { ...metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const tensor = tensors[name];
    if (!tensor) continue;
    const length = tensor.data.length * BYTES[dtype];
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
    if (dtype === 'I8') meta[`scale.${name}`] = String(int8Scale(tensor.data));
  }
  header.__metadata__ = meta;
  let headerBytes = UTF8_ENCODER.encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / ALIGN) * ALIGN;
  if (padded !== headerBytes.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(headerBytes);
    headerBytes = spaced;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let cursor = 8 + headerBytes.length;
  for (const name of names) {
    const tensor = tensors[name];
    if (!tensor) continue;
    const scale = dtype === 'I8' ? Number(meta[`scale.${name}`]) : 1;
    for (const value of tensor.data) {
      if (dtype === 'F32') view.setFloat32(cursor, value, true);
      else if (dtype === 'F16') view.setUint16(cursor, toHalf(value), true);
      else view.setInt8(cursor, scale === 0 ? 0 : toInt8(value / scale, random));
      cursor += BYTES[dtype];
    }
  }
  return out;
}

/** One tensor of a payload where it lies in the payload's bytes, its values not converted yet. */
export interface StoredTensor {
  dtype: WireDtype;
  shape: number[];
  /** The `I8` scale: each stored integer stands for itself times this. 1 for `F32` and `F16`. */
  scale: number;
  /** Its bytes: a view into the payload. */
  bytes: Uint8Array;
}

/**
 * Reads a payload written by {@link encodeTensors}, checking every length and offset.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for anything malformed, truncated or too large.
 */
export function decodeTensors(bytes: Uint8Array, limits: DecodeLimits = {}): EncodedTensors {
  const { tensors: stored, metadata } = readTensors(bytes, limits);
  const tensors: WeightSet = {};
  const dtypes: Record<string, WireDtype> = {};
  for (const [name, tensor] of Object.entries(stored)) {
    tensors[name] = { shape: tensor.shape, data: tensorValues(tensor) };
    dtypes[name] = tensor.dtype;
  }
  return { tensors, metadata, dtypes };
}

/**
 * {@link decodeTensors} without converting any value: where each tensor lies, for a reader that
 * needs only some of them, or works on the int8 integers themselves.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for anything malformed, truncated or too large.
 */
export function readTensors(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): { tensors: Record<string, StoredTensor>; metadata: Record<string, string> } {
  const maxTensors = limits.maxTensors ?? 64;
  const { header, metadata, headerLength } = readHeader(bytes, limits);
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  if (entries.length > maxTensors) fail(`${entries.length} tensors exceed the limit of ${maxTensors}`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, StoredTensor> = {};
  for (const [name, raw] of entries) {
    const { dtype, shape, data_offsets: offsets } = (raw ?? {}) as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'I8')
      fail(`tensor "${name}" has unsupported dtype ${String(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) {
      fail(`tensor "${name}" has an invalid shape`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(Number.isInteger)) {
      fail(`tensor "${name}" has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const count = tensorSize(shape as number[]);
    if (begin < 0 || end > dataLength || end - begin !== count * BYTES[dtype]) {
      fail(`tensor "${name}" byte range [${begin}, ${end}) does not hold ${count} ${dtype} values`);
    }
    const scale = dtype === 'I8' ? Number(metadata[`scale.${name}`]) : 1;
    if (!Number.isFinite(scale)) fail(`tensor "${name}" has no valid int8 scale`);
    tensors[name] = {
      dtype,
      shape: shape as number[],
      scale,
      bytes: bytes.subarray(dataStart + begin, dataStart + end),
    };
  }
  return { tensors, metadata };
}

/** A {@link StoredTensor}'s values, as float32. */
export function tensorValues({ bytes, dtype, shape, scale }: StoredTensor): Float32Array {
  return readValues(bytes, tensorSize(shape), dtype, scale);
}

function readHeader(bytes: Uint8Array, limits: DecodeLimits) {
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  if (bytes.length > maxBytes) fail(`payload of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  if (bytes.length < 8) fail(`payload of ${bytes.length} bytes is shorter than its 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) fail(`header length ${headerLength} runs past the payload`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(UTF8_DECODER.decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (error) {
    throw new OmniPersonaError('INVALID_PAYLOAD', 'Tensor header is not JSON', { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('tensor header is not an object');
  return { header, metadata: readMetadata(header.__metadata__), headerLength };
}

/** Whether typed arrays on this platform hold numbers little-endian, as the format does. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** `count` values of `dtype` from the start of `bytes`, as float32. */
function readValues(bytes: Uint8Array, count: number, dtype: WireDtype, scale: number): Float32Array {
  const at = bytes.byteOffset;
  if (dtype === 'I8') {
    const values = new Int8Array(bytes.buffer, at, count);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = (values[i] as number) * scale;
    return data;
  }
  // Aligned float32 is copied as it is; otherwise, value by value.
  if (dtype === 'F32' && LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(bytes.buffer.slice(at, at + 4 * count));
  const view = new DataView(bytes.buffer, at, count * BYTES[dtype]);
  const data = new Float32Array(count);
  if (dtype === 'F32') for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  else for (let i = 0; i < count; i++) data[i] = fromHalf(view.getUint16(2 * i, true));
  return data;
}

function readMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`);
    metadata[key] = value as string;
  }
  return metadata;
}

function fail(message: string): never {
  throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid tensor payload: ${message}`);
}

function toInt8(scaled: number, random: (() => number) | undefined): number {
  const rounded = random ? Math.floor(scaled + random()) : Math.round(scaled);
  return Math.max(-127, Math.min(127, rounded));
}

function int8Scale(data: Float32Array): number {
  let max = 0;
  for (const value of data) max = Math.max(max, Math.abs(value));
  return max / 127;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Float32 to IEEE 754 half, rounding to nearest even. */
function toHalf(value: number): number {
  f32[0] = value;
  const bits = u32[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: a multiple of 2^-24.
    return sign | Math.min(0x3ff, Math.round(Math.abs(value) * 2 ** 24));
  }
  const base = sign | (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && base & 1) ? base + 1 : base;
}

function fromHalf(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}
