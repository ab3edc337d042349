/**
 * What the shopper allows, from least to most:
 * - `none`: nothing stored, nothing sent;
 * - `on-device`: events stored and learned from on this device; nothing about the shopper is sent;
 * - `federated`: plus anonymous model updates to the shop's sync server;
 * - `synced`: plus personal state for an identified shopper, so other channels see the same profile.
 *
 * Pulling the global model and catalog carries no shopper data and is allowed at every tier but `none`;
 * so is fetching the shop's prior file (the `prior` option), the same kind of download from the shop's
 * own origin. Both are the `pull` action: under `none` no model is used, so neither is fetched.
 */
export type ConsentTier = 'none' | 'on-device' | 'federated' | 'synced';

export const CONSENT_TIERS: readonly ConsentTier[] = ['none', 'on-device', 'federated', 'synced'];

export type ConsentAction = 'store' | 'pull' | 'push-update' | 'push-personal';

const REQUIRED: Record<ConsentAction, ConsentTier> = {
  store: 'on-device',
  pull: 'on-device',
  'push-update': 'federated',
  'push-personal': 'synced',
};

export function consentAllows(tier: ConsentTier, action: ConsentAction): boolean {
  return CONSENT_TIERS.indexOf(tier) >= CONSENT_TIERS.indexOf(REQUIRED[action]);
}

export function isConsentTier(value: unknown): value is ConsentTier {
  return typeof value === 'string' && (CONSENT_TIERS as readonly string[]).includes(value);
}

/** Browser-level privacy preferences the shopper set once for every site. */
export interface PrivacySignals {
  /** Global Privacy Control: `navigator.globalPrivacyControl === true`. */
  globalPrivacyControl?: boolean;
  /** Do Not Track: `navigator.doNotTrack === '1'`. */
  doNotTrack?: boolean;
}

/** Which signal lowered the tier: Global Privacy Control or Do-Not-Track. */
export type ConsentCapSource = 'gpc' | 'dnt';

/** The highest tier the shopper's privacy signals allow, and which signal set it. */
export interface ConsentCap {
  tier: ConsentTier;
  by: ConsentCapSource;
}

/**
 * The cap a shopper's privacy signals put on consent, or undefined when they set none. Both GPC and
 * DNT say "do not sell or share my data": nothing about the shopper may leave the device, so the tier
 * is capped at `on-device`. On-device personalisation stays, since it shares nothing. GPC is reported
 * when both are set, as the signal with legal weight (CCPA/CPRA, Colorado).
 */
export function consentCap(signals: PrivacySignals | undefined): ConsentCap | undefined {
  if (signals?.globalPrivacyControl === true) return { tier: 'on-device', by: 'gpc' };
  if (signals?.doNotTrack === true) return { tier: 'on-device', by: 'dnt' };
  return undefined;
}

/** The tier in force: the one asked for, lowered to the cap when it is higher. */
export function capConsent(requested: ConsentTier, cap: ConsentCap | undefined): ConsentTier {
  if (!cap) return requested;
  return CONSENT_TIERS.indexOf(requested) > CONSENT_TIERS.indexOf(cap.tier) ? cap.tier : requested;
}
