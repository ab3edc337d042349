import { describe, expect, it } from 'vitest';
import { rankBiasedOverlap } from '../../../bench/rank-overlap.mjs';

describe('rankBiasedOverlap', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `i${i}`);

  it('is 1 for identical lists and 0 for disjoint ones', () => {
    expect(rankBiasedOverlap(ten, ten)).toBeCloseTo(1, 12);
    expect(
      rankBiasedOverlap(
        ten,
        ten.map((id) => `${id}x`),
      ),
    ).toBe(0);
  });

  it('weighs a swap at the top more than one at the bottom', () => {
    const swapTop = [ten[1], ten[0], ...ten.slice(2)] as string[];
    const swapBottom = [...ten.slice(0, 8), ten[9], ten[8]] as string[];
    const top = rankBiasedOverlap(ten, swapTop);
    const bottom = rankBiasedOverlap(ten, swapBottom);
    expect(top).toBeLessThan(bottom);
    expect(bottom).toBeLessThan(1);
    // Only depth 1 disagrees, and it carries (1 − p) / p · p of the weight: 1 − 0.1.
    expect(top).toBeCloseTo(0.9, 10);
  });

  it('matches a hand computation for one item replaced at the bottom', () => {
    const replaced = [...ten.slice(0, 9), 'other'];
    // Agreement is d/d for d < 10 and 9/10 at depth 10.
    let sum = 0;
    for (let d = 1; d <= 10; d++) sum += ((d < 10 ? d : 9) / d) * 0.9 ** d;
    const expected = 0.9 * 0.9 ** 10 + (0.1 / 0.9) * sum;
    expect(rankBiasedOverlap(ten, replaced)).toBeCloseTo(expected, 12);
  });
});
