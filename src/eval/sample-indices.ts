/**
 * `count` distinct indices out of `0..size-1`, uniformly and reproducibly from `random`, in the order
 * drawn (a partial Fisher–Yates shuffle). All of them, shuffled, when `count >= size`.
 */
export function sampleIndices(size: number, count: number, random: () => number): number[] {
  const pool = Array.from({ length: size }, (_, index) => index);
  const taken = Math.min(count, size);
  for (let i = 0; i < taken; i++) {
    const j = i + Math.floor(random() * (size - i));
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
  }
  return pool.slice(0, taken);
}
