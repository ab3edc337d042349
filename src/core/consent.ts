/**
 * What the shopper allows, from least to most:
 * - `none`: nothing stored, nothing sent;
 * - `on-device`: events stored and learned from on this device; nothing about the shopper is sent;
 * - `federated`: plus anonymous model updates to the shop's sync server;
 * - `synced`: plus personal state for an identified shopper, so other channels see the same profile.
 *
 * Pulling the global model and catalog carries no shopper data and is allowed at every tier but `none`.
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
