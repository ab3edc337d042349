import { describe, expect, it } from 'vitest';
import type { TrainingExample } from '../../../src/core/model/model-runtime.js';
import { keepRows, touchedItemRows, updateRows } from '../../../src/core/model/update-rows.js';

const example = (items: number[], target: number): TrainingExample => ({
  history: { items: Int32Array.from(items), signals: new Int32Array(items.length) },
  target,
});

describe('touchedItemRows', () => {
  it('lists every item the examples read or predict, once and ascending', () => {
    const rows = touchedItemRows([example([12, 3], 40), example([12, 3, 40], 5)]);
    expect(Array.from(rows)).toEqual([3, 5, 12, 40]);
  });
});

describe('updateRows', () => {
  it('names the item embedding table, and only it', () => {
    const rows = updateRows([example([2], 1)]);
    expect(Object.keys(rows)).toEqual(['item_embedding']);
    expect(Array.from(rows.item_embedding ?? [])).toEqual([1, 2]);
  });
});

describe('keepRows', () => {
  it('zeroes the rows left out of a listed tensor and keeps the others whole', () => {
    const delta = {
      table: { shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      dense: { shape: [2], data: Float32Array.of(7, 8) },
    };
    const kept = keepRows(delta, { table: Int32Array.of(0, 2) });
    expect(Array.from(kept.table?.data ?? [])).toEqual([1, 2, 0, 0, 5, 6]);
    expect(kept.dense).toBe(delta.dense);
    expect(Array.from(delta.table.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
