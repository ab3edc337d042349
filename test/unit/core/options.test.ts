import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/core/personalizer/options.js';

describe('resolveOptions', () => {
  it('takes channel names that the sync server accepts', () => {
    expect(resolveOptions({ site: 'shop' }).channel).toBe('web');
    for (const channel of ['app', 'pos', 'kiosk-3', 'call_centre']) {
      expect(resolveOptions({ site: 'shop', channel }).channel).toBe(channel);
    }
  });

  it.each(['', 'Web', 'in store', '3d', 'x'.repeat(33)])('refuses the channel %j with INVALID_OPTIONS', (channel) => {
    expect(() => resolveOptions({ site: 'shop', channel })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('channel must be') }),
    );
  });
});
