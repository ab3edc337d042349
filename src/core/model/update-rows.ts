import type { TrainingExample } from './model-runtime.js';
import type { WeightSet } from './weights.js';

/**
 * The tensors a device's update carries by rows: the item embedding table. Under a full softmax a
 * fine-tune moves every item's row a little, and every device moves the rows it never saw the
 * same way (away from its own shopper vector); averaged, those nudges drift the whole table, and
 * since the table also reads the histories, the drift feeds on itself. Only the rows of the items
 * the shopper's examples read or predict carry what the device learnt, and the server averages
 * each row over the devices that sent it (`DeltaAverage` in src/server).
 *
 * The item bias stays dense: lowering every unseen item a little is how the devices' updates
 * add up to popularity, and a shift shared by every bias leaves the ranking as it was.
 */
export const ITEM_ROW_TENSORS = ['item_embedding'] as const;

/** The item rows `examples` read or predict, ascending, each once. */
export function touchedItemRows(examples: readonly TrainingExample[]): Int32Array {
  const rows = new Set<number>();
  for (const example of examples) {
    rows.add(example.target);
    for (const item of example.history.items) rows.add(item);
  }
  return Int32Array.from(rows).sort();
}

/** The row lists of an update trained on `examples`: its touched item rows, for each item-row tensor. */
export function updateRows(examples: readonly TrainingExample[]): Record<string, Int32Array> {
  const rows = touchedItemRows(examples);
  return Object.fromEntries(ITEM_ROW_TENSORS.map((name) => [name, rows]));
}

/** `delta` with every row its `rows` leave out zeroed, so that its norm is that of what it carries. */
export function keepRows(delta: WeightSet, rows: Readonly<Record<string, Int32Array>>): WeightSet {
  const kept: WeightSet = { ...delta };
  for (const [name, listed] of Object.entries(rows)) {
    const tensor = delta[name];
    if (!tensor) continue;
    const width = tensor.data.length / (tensor.shape[0] ?? 1);
    const data = new Float32Array(tensor.data.length);
    for (const row of listed) data.set(tensor.data.subarray(row * width, (row + 1) * width), row * width);
    kept[name] = { shape: [...tensor.shape], data };
  }
  return kept;
}
