/**
 * The popularity baseline: each item's score is how often it occurs in `sequences`. It is the floor
 * a recommender must clearly beat (../shared/data/README.md).
 */
export function popularityScores(sequences: readonly Int32Array[], items: number): Float32Array {
  const counts = new Float32Array(items);
  for (const sequence of sequences) {
    for (const item of sequence) counts[item] = (counts[item] as number) + 1;
  }
  return counts;
}
