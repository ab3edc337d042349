/**
 * Rank-biased overlap (Webber, Moffat and Zobel, 2010), extrapolated to the lists' depth: how much
 * two top-k lists agree, weighting the top more (persistence `p`; at 0.9 the first 10 ranks carry
 * about 86% of the weight). 1 for identical lists, 0 for disjoint ones. Shared by the sync bench and
 * the cross-channel tests.
 * @param {readonly string[]} a
 * @param {readonly string[]} b
 * @param {number} [p]
 * @returns {number}
 */
export function rankBiasedOverlap(a, b, p = 0.9) {
  const depth = Math.min(a.length, b.length);
  if (depth === 0) return a.length === b.length ? 1 : 0;
  const seenA = new Set();
  const seenB = new Set();
  let overlap = 0;
  let sum = 0;
  for (let d = 1; d <= depth; d++) {
    const x = a[d - 1];
    const y = b[d - 1];
    if (x === y) overlap++;
    else {
      if (seenB.has(x)) overlap++;
      if (seenA.has(y)) overlap++;
    }
    seenA.add(x);
    seenB.add(y);
    sum += (overlap / d) * p ** d;
  }
  return (overlap / depth) * p ** depth + ((1 - p) / p) * sum;
}
