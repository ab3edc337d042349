import { describe, expect, it } from 'vitest';
import { OmniPersonaError } from '../../../src/core/errors.js';
import { isRetryable, retryDelay, SYNC_RETRY } from '../../../src/core/personalizer/sync-retry.js';

describe('sync retries', () => {
  it('wait twice as long after each failure, up to the ceiling, with half of each wait random', () => {
    const low = () => 0;
    const high = () => 0.999_999;
    expect(retryDelay(1, low)).toBe(SYNC_RETRY.firstMs / 2);
    expect(retryDelay(1, high)).toBeCloseTo(SYNC_RETRY.firstMs, 0);
    expect(retryDelay(3, low)).toBe(SYNC_RETRY.firstMs * 2);
    expect(retryDelay(40, high)).toBeCloseTo(SYNC_RETRY.maxMs, 0);
    expect(retryDelay(40, low)).toBe(SYNC_RETRY.maxMs / 2);
  });

  it('retry what may pass later, not what the server refused', () => {
    expect(isRetryable(new OmniPersonaError('NETWORK', 'down'))).toBe(true);
    expect(isRetryable(new OmniPersonaError('SERVER', '503'))).toBe(true);
    for (const code of ['UNAUTHORIZED', 'FORBIDDEN', 'STALE_UPDATE', 'CONSENT'] as const) {
      expect(isRetryable(new OmniPersonaError(code, 'no'))).toBe(false);
    }
    expect(isRetryable(new Error('plain'))).toBe(false);
  });
});
