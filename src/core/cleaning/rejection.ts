/**
 * Why an event was not stored:
 * - `invalid`: it failed the event schema (the caller got `OmniPersonaError('INVALID_EVENT')`);
 * - `duplicate`: it repeats an event already recorded (same id, or a repeated view of one item);
 * - `bot`: the page is driven by automation and the bot filter is on;
 * - `anomaly`: well-formed but not believable (time far ahead or too old, absurd price or
 *   quantity, part of an event flood).
 */
export type RejectionReason = 'invalid' | 'duplicate' | 'bot' | 'anomaly';

/** Rejected events by reason, since the personalizer started. */
export type RejectionCounts = Record<RejectionReason, number>;

/** One rejected event, as the `rejected` event reports it. */
export interface Rejection {
  reason: RejectionReason;
  /** What was wrong, for people. */
  detail: string;
  /** The event's type, when it was known. */
  type?: string;
}

/** Counts with every reason at zero. */
export function emptyRejectionCounts(): RejectionCounts {
  return { invalid: 0, duplicate: 0, bot: 0, anomaly: 0 };
}
