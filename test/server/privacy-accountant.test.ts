import { describe, expect, it } from 'vitest';
import { gaussianEpsilon, gdpDelta, normalCdf } from '../../src/server/privacy-accountant.js';

/** Relative closeness, for values over several orders of magnitude. */
function expectRelative(actual: number, expected: number, tolerance = 1e-4) {
  expect(Math.abs(actual - expected) / expected).toBeLessThan(tolerance);
}

describe('the DP-FedAvg privacy accountant', () => {
  it('matches the tight (ε, δ) of composed Gaussian mechanisms, computed independently in float64', () => {
    // Reference values: the same conversion with Python's math.erfc and a 300-step bisection.
    const cases: Array<[number, number, number, number]> = [
      [1, 1, 1e-5, 4.3771780956812245],
      [1.1, 100, 1e-5, 79.27549552749586],
      [5, 1000, 1e-5, 46.21121019121809],
      [0.5, 10, 1e-6, 49.319276660696175],
      [2, 50, 1e-5, 20.67550804699403],
      [20, 1, 1e-5, 0.16004203445813173],
    ];
    for (const [noiseMultiplier, rounds, delta, epsilon] of cases) {
      expectRelative(gaussianEpsilon({ noiseMultiplier, rounds, delta }), epsilon);
    }
  });

  it('reproduces the analytic Gaussian mechanism: σ ≈ 3.73 gives (1, 1e-5)-DP for sensitivity 1', () => {
    // Balle and Wang (2018), whose σ for ε = 1 and δ = 1e-5 is 3.73 where the classical bound asks 4.84.
    expect(gdpDelta(1 / 3.730631634815947, 1)).toBeCloseTo(1e-5, 9);
    expectRelative(gaussianEpsilon({ noiseMultiplier: 3.730631634815947, rounds: 1, delta: 1e-5 }), 1);
  });

  it('spends more with more rounds and less with more noise, nothing without rounds, everything without noise', () => {
    const at = (noiseMultiplier: number, rounds: number) => gaussianEpsilon({ noiseMultiplier, rounds, delta: 1e-5 });
    expect(at(1, 10)).toBeGreaterThan(at(1, 5));
    expect(at(2, 10)).toBeLessThan(at(1, 10));
    expect(at(1, 0)).toBe(0);
    expect(at(0, 3)).toBe(Number.POSITIVE_INFINITY);
    expect(() => gaussianEpsilon({ noiseMultiplier: 1, rounds: 1, delta: 0 })).toThrow(RangeError);
  });

  it('computes Φ to 1e-7 across its range', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expectRelative(normalCdf(-5), 2.866515718791939e-7, 1e-6);
  });
});
