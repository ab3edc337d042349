/**
 * A small seeded PRNG (mulberry32) so that model initialisation and simulations are reproducible
 * on every platform; `Math.random` cannot be seeded.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 31-bit seed from a list of integers (FNV-1a over their 32-bit words): equal lists give equal
 * seeds on every platform.
 */
export function seedOf(values: Iterable<number>): number {
  let hash = 0x811c9dc5;
  for (const value of values) {
    hash = Math.imul(hash ^ (value | 0), 0x01000193) >>> 0;
  }
  return (hash >>> 1) + 1;
}

/** Standard normal samples from a uniform source (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
