import { expect, it } from 'vitest';
import { leaveOneOut } from '../../../src/eval/leave-one-out.js';

it('holds out the last item for test and the one before for validation, and trains on the rest', () => {
  const split = leaveOneOut([Int32Array.from([1, 2, 3, 4, 5]), Int32Array.from([7, 8]), Int32Array.from([6, 7, 8])]);
  expect(split.skipped).toBe(1);
  expect(split.train.map((rows) => Array.from(rows))).toEqual([[1, 2, 3], [6]]);
  expect(split.validation.map(({ history, target }) => [Array.from(history), target])).toEqual([
    [[1, 2, 3], 4],
    [[6], 7],
  ]);
  expect(split.test.map(({ history, target }) => [Array.from(history), target])).toEqual([
    [[1, 2, 3, 4], 5],
    [[6, 7], 8],
  ]);
});
