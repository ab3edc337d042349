/** One named tensor as plain numbers: how weights travel between the ML module, storage and the server. */
export interface Tensor32 {
  shape: number[];
  data: Float32Array;
}

/** Named tensors of one model. Names and shapes are fixed by {@link ModelSpec}. */
export type WeightSet = Record<string, Tensor32>;

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((size, dim) => size * dim, 1);
}

/** `a - b`, tensor by tensor; both must have the same names and shapes. */
export function subtractWeights(a: WeightSet, b: WeightSet): WeightSet {
  return mapPairs(a, b, (x, y) => x - y);
}

/** `a + scale * b`, tensor by tensor. */
export function addScaledWeights(a: WeightSet, b: WeightSet, scale = 1): WeightSet {
  return mapPairs(a, b, (x, y) => x + scale * y);
}

/** The L2 norm of all tensors taken as one vector. */
export function weightsNorm(weights: WeightSet): number {
  let sum = 0;
  for (const tensor of Object.values(weights)) {
    for (const value of tensor.data) sum += value * value;
  }
  return Math.sqrt(sum);
}

export function cloneWeights(weights: WeightSet): WeightSet {
  return Object.fromEntries(
    Object.entries(weights).map(([name, tensor]) => [name, { shape: [...tensor.shape], data: tensor.data.slice() }]),
  );
}

function mapPairs(a: WeightSet, b: WeightSet, combine: (x: number, y: number) => number): WeightSet {
  const result: WeightSet = {};
  for (const [name, left] of Object.entries(a)) {
    const right = b[name];
    if (!right || right.data.length !== left.data.length) {
      throw new RangeError(`Weight sets differ at tensor "${name}"`);
    }
    const data = new Float32Array(left.data.length);
    for (let i = 0; i < data.length; i++) data[i] = combine(left.data[i] as number, right.data[i] as number);
    result[name] = { shape: [...left.shape], data };
  }
  return result;
}
