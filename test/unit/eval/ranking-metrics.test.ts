import { describe, expect, it } from 'vitest';
import { RankingMetrics, targetPlace } from '../../../src/eval/ranking-metrics.js';

const scores = Float32Array.from([0.9, 0.1, 0.5, 0.7, 0.3]);

function metricsOf(...places: Parameters<RankingMetrics['add']>[0][]) {
  const metrics = new RankingMetrics();
  for (const place of places) metrics.add(place);
  return metrics.values();
}

describe('targetPlace', () => {
  it('counts the items above the target, leaving the history out', () => {
    expect(targetPlace(scores, 2, [])).toEqual({ above: 2, tied: 0 });
    expect(targetPlace(scores, 2, [0])).toEqual({ above: 1, tied: 0 });
    expect(targetPlace(scores, 2, [0, 0, 1])).toEqual({ above: 1, tied: 0 });
    expect(targetPlace(scores, 0, [4])).toEqual({ above: 0, tied: 0 });
  });

  it('cannot find a target that is in the history', () => {
    expect(targetPlace(scores, 2, [3, 2])).toBeUndefined();
  });

  it('counts ties apart, history ties taken back', () => {
    const tiedScores = Float32Array.from([1, 1, 2, 1, 0, 1]);
    expect(targetPlace(tiedScores, 0, [])).toEqual({ above: 1, tied: 3 });
    expect(targetPlace(tiedScores, 0, [5, 2])).toEqual({ above: 0, tied: 2 });
  });

  it('never lets NaN help a target', () => {
    expect(targetPlace(Float32Array.from([0.5, Number.NaN, 0.1]), 0, [])).toEqual({ above: 1, tied: 0 });
    expect(targetPlace(Float32Array.from([Number.NaN, 0.5, 0.1]), 0, [])).toBeUndefined();
  });
});

describe('RankingMetrics', () => {
  it('scores rank 1 and a miss as hand-computed', () => {
    const values = metricsOf({ above: 1, tied: 0 }, undefined);
    expect(values['HR@5']).toBe(0.5);
    expect(values['NDCG@5']).toBeCloseTo(1 / Math.log2(3) / 2, 10);
    expect(values['NDCG@20']).toBeCloseTo(0.31546, 5);
  });

  it('counts a hit at K only when the rank is below K', () => {
    const values = metricsOf(
      { above: 4, tied: 0 },
      { above: 5, tied: 0 },
      { above: 19, tied: 0 },
      { above: 20, tied: 0 },
    );
    expect(values['HR@5']).toBe(0.25);
    expect(values['HR@10']).toBe(0.5);
    expect(values['HR@20']).toBe(0.75);
    expect(values['NDCG@5']).toBeCloseTo(1 / Math.log2(6) / 4, 10);
  });

  it('breaks ties at random, in expectation', () => {
    // Ranks 3, 4, 5 or 6 with equal chance.
    const values = metricsOf({ above: 3, tied: 3 });
    expect(values['HR@5']).toBe(0.5);
    expect(values['NDCG@5']).toBeCloseTo(0.20438, 5);
    expect(values['HR@10']).toBe(1);
    expect(values['NDCG@10']).toBeCloseTo(0.37677, 5);
  });

  it('rates a model that scores everything alike as a random ranking', () => {
    const flat = new Float32Array(40);
    const values = metricsOf(targetPlace(flat, 7, [1, 2, 3, 4, 5, 6, 8, 9, 10, 11]));
    expect(values['HR@5']).toBeCloseTo(5 / 30, 10);
    expect(values['HR@20']).toBeCloseTo(20 / 30, 10);
  });

  it('is all zeros without users', () => {
    expect(Object.values(metricsOf())).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
