/** Which held-out item a run ranks: the last one (test) or the one before it (validation, for tuning). */
export type EvalTarget = 'test' | 'validation';

/** One user's ranking task: rank every item for `history`, and see where `target` lands. */
export interface RankingCase {
  /** Item rows the model reads, oldest first; they are also left out of the ranking. */
  history: Int32Array;
  target: number;
}

/** A data set split per user for next-item evaluation. */
export interface LeaveOneOutSplit {
  /** Each kept user's training sequence: every item but the last two. */
  train: Int32Array[];
  /** Second-to-last item, given the training sequence. */
  validation: RankingCase[];
  /** Last item, given everything before it (the training sequence and the validation item). */
  test: RankingCase[];
  /** Users with fewer than three items, which cannot be split; they take no part at all. */
  skipped: number;
}

/**
 * The leave-one-out protocol of the S3-Rec line of papers (../shared/data/README.md): per user, the
 * last item is the test target, the second-to-last the validation target, the rest is training.
 * Models train on `train` only, whichever target is evaluated, so validation scores can tune
 * settings without looking at the test targets.
 */
export function leaveOneOut(sequences: readonly Int32Array[]): LeaveOneOutSplit {
  const split: LeaveOneOutSplit = { train: [], validation: [], test: [], skipped: 0 };
  for (const sequence of sequences) {
    const length = sequence.length;
    if (length < 3) {
      split.skipped++;
      continue;
    }
    split.train.push(sequence.subarray(0, length - 2));
    split.validation.push({ history: sequence.subarray(0, length - 2), target: sequence[length - 2] as number });
    split.test.push({ history: sequence.subarray(0, length - 1), target: sequence[length - 1] as number });
  }
  return split;
}
