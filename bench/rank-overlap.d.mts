/** Extrapolated rank-biased overlap of two top-k lists at persistence `p` (default 0.9). */
export function rankBiasedOverlap(a: readonly string[], b: readonly string[], p?: number): number;
