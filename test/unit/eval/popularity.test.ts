import { expect, it } from 'vitest';
import { evaluateRanking } from '../../../src/eval/evaluate-ranking.js';
import { leaveOneOut } from '../../../src/eval/leave-one-out.js';
import { popularityScores } from '../../../src/eval/popularity-scores.js';

it('ranks by how often each item was seen, the user history left out', async () => {
  // Item 0 is seen 4 times, item 1 three times, item 2 twice, items 3 and 4 once.
  const sequences = [
    [0, 1, 2, 3],
    [0, 1, 0, 4],
    [2, 1, 0, 3],
    [4, 3, 4],
  ].map((rows) => Int32Array.from(rows));
  const { test } = leaveOneOut(sequences);
  const scores = popularityScores(
    test.map((entry) => entry.history),
    5,
  );
  expect(Array.from(scores)).toEqual([4, 3, 2, 1, 1]);

  // Targets: 3 after [0,1,2] → above it nothing left but item 4, tied: rank 0 or 1.
  //          4 after [0,1,0] → item 2 above, item 3 tied: rank 1 or 2.
  //          3 after [2,1,0] → item 4 tied: rank 0 or 1.
  //          4 after [4,3]   → in the history: a miss.
  const values = await evaluateRanking(test, 5, async (histories) => {
    const block = new Float32Array(histories.length * 5);
    for (let row = 0; row < histories.length; row++) block.set(scores, row * 5);
    return block;
  });
  const g = (rank: number) => 1 / Math.log2(rank + 2);
  expect(values['HR@5']).toBe(0.75);
  expect(values['NDCG@5']).toBeCloseTo(((g(0) + g(1)) / 2 + (g(1) + g(2)) / 2 + (g(0) + g(1)) / 2) / 4, 10);
});
