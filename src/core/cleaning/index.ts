/**
 * Cleaning on the device: what keeps the event log believable before anything learns from it.
 * Pure rules and small stateful filters; the personalizer's event recorder applies them.
 */
export { type AutomationSignals, type AutomationVerdict, detectAutomation } from './automation-verdict.js';
export { Deduplicator, type DuplicateKind } from './deduplicator.js';
export { FloodGuard } from './flood-guard.js';
export { emptyRejectionCounts, type Rejection, type RejectionCounts, type RejectionReason } from './rejection.js';
export { findAnomaly, type SanityRules } from './sanity-rules.js';
