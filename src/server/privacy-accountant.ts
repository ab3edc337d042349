/**
 * The privacy a shopper spends by taking part in DP-FedAvg rounds (McMahan et al., 2018): each round
 * clips every update to L2 norm `C`, sums them, and adds Gaussian noise of standard deviation `z·C`
 * to the sum (`z` is the noise multiplier). One round is then a Gaussian mechanism of sensitivity
 * `C` and noise `z·C` for a shopper who sent one update to it, and `T` such rounds compose exactly
 * into one Gaussian mechanism of noise multiplier `z / √T`: μ-Gaussian differential privacy with
 * μ = √T / z (Dong, Roth and Su, 2019, corollary 3.3).
 *
 * μ-GDP is (ε, δ(ε))-DP for every ε ≥ 0 with δ(ε) = Φ(−ε/μ + μ/2) − e^ε · Φ(−ε/μ − μ/2) (ibid.,
 * corollary 2.13), the tight conversion; {@link gaussianEpsilon} inverts it. No amplification by
 * sampling is assumed: devices choose when to send, so the figure holds for a shopper who sent an
 * update to every round counted.
 */

/** ε of `rounds` Gaussian rounds of noise multiplier `noiseMultiplier`, at `delta`; `Infinity` without noise. */
export function gaussianEpsilon({
  noiseMultiplier,
  rounds,
  delta,
}: {
  noiseMultiplier: number;
  rounds: number;
  delta: number;
}): number {
  if (!(rounds >= 0)) throw new RangeError(`rounds must be at least 0, received ${rounds}`);
  if (rounds === 0) return gdpEpsilon(0, delta);
  return gdpEpsilon(noiseMultiplier > 0 ? Math.sqrt(rounds) / noiseMultiplier : Number.POSITIVE_INFINITY, delta);
}

/**
 * The smallest ε for which μ-GDP is (ε, `delta`)-DP: 0 for μ = 0 (nothing spent), `Infinity` for an
 * unbounded μ. Rounds of different noise multipliers zᵢ compose into μ = √(Σ 1/zᵢ²).
 */
export function gdpEpsilon(mu: number, delta: number): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), received ${delta}`);
  if (!(mu >= 0)) throw new RangeError(`mu must be at least 0, received ${mu}`);
  if (!Number.isFinite(mu)) return Number.POSITIVE_INFINITY;
  if (mu === 0 || gdpDelta(mu, 0) <= delta) return 0;
  // δ(ε) falls as ε grows: bracket, then bisect.
  let low = 0;
  let high = 1;
  while (gdpDelta(mu, high) > delta) {
    low = high;
    high *= 2;
    if (high > 1e6) return Number.POSITIVE_INFINITY;
  }
  for (let i = 0; i < 200 && high - low > 1e-12 * Math.max(1, high); i++) {
    const middle = (low + high) / 2;
    if (gdpDelta(mu, middle) > delta) low = middle;
    else high = middle;
  }
  return high;
}

/** δ(ε) of μ-GDP. */
export function gdpDelta(mu: number, epsilon: number): number {
  // e^ε · Φ(b) as exp(ε + log Φ(b)): e^ε overflows long before the product does.
  const a = normalCdf(-epsilon / mu + mu / 2);
  const b = Math.exp(epsilon + logNormalCdf(-epsilon / mu - mu / 2));
  return Math.max(0, a - b);
}

/** Φ, the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** log Φ(x), accurate far into the lower tail. */
function logNormalCdf(x: number): number {
  if (x > -5) return Math.log(normalCdf(x));
  // erfc(t) = exp(−t²) · r(t) for the rational part r of erfc below; log keeps the exp(−t²) apart.
  const t = -x / Math.SQRT2;
  return Math.log(0.5) - t * t + Math.log(erfcScaled(t));
}

/** erfc(x), with a relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const value = Math.exp(-z * z) * erfcScaled(z);
  return x >= 0 ? value : 2 - value;
}

/** erfc(z) · exp(z²) for z ≥ 0. */
function erfcScaled(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(poly);
}
