import { describe, expect, it } from 'vitest';
import { item, setupPersonalizer } from './setup-personalizer.js';

describe('model loading failures', () => {
  it('backs off instead of fetching the ML module again on every call', async () => {
    let attempts = 0;
    const harness = setupPersonalizer(
      { trainAfterEvents: 1 },
      {
        loadRuntime: async () => {
          attempts++;
          throw new Error('omnipersona-ml.js answered 503');
        },
      },
    );
    const { personalizer } = harness;
    for (const id of ['a', 'b', 'c']) personalizer.track({ type: 'view', item: item(id) });
    await personalizer.flush();
    // Widgets refresh often; each falls back to category interest without a new download.
    for (let i = 0; i < 5; i++) await personalizer.recommend({ kind: 'for-you', count: 2 });
    await personalizer.train().catch(() => undefined);
    expect(attempts).toBe(1);
    expect(harness.errors.some((error) => error.message.includes('503'))).toBe(true);

    harness.advance(5_001);
    await personalizer.recommend({ kind: 'for-you', count: 2 });
    expect(attempts).toBe(2);
    // The second failure doubles the wait.
    harness.advance(5_001);
    await personalizer.recommend({ kind: 'for-you', count: 2 });
    expect(attempts).toBe(2);
    harness.advance(5_000);
    await personalizer.recommend({ kind: 'for-you', count: 2 });
    expect(attempts).toBe(3);
  });
});
