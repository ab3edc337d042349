import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../../../src/core/event.js';
import { MemoryEventLog } from '../../../src/core/memory-storage.js';
import { eventsToEvict, evictionPolicy } from '../../../src/core/personalizer/retention-policy.js';
import { item, START, setupPersonalizer } from './setup-personalizer.js';

const DAY = 86_400_000;

describe('retention policy', () => {
  it('evicts expired events first, then the oldest beyond the count, ties by id', () => {
    const events = [
      { id: 'c', time: 30 },
      { id: 'old', time: 1 },
      { id: 'b', time: 20 },
      { id: 'a', time: 20 },
      { id: 'd', time: 40 },
    ];
    expect(eventsToEvict(events, { before: 10, keep: 10 })).toEqual(['old']);
    expect(eventsToEvict(events, { before: 10, keep: 2 })).toEqual(['old', 'a', 'b']);
    expect(eventsToEvict(events, { before: 0, keep: 0 })).toEqual(['old', 'a', 'b', 'c', 'd']);
    expect(eventsToEvict(events, { before: Number.NEGATIVE_INFINITY, keep: 5 })).toEqual([]);
  });

  it('turns days and counts into a policy', () => {
    expect(evictionPolicy({ maxAgeDays: 90, maxEvents: 5000 }, 100 * DAY)).toEqual({ before: 10 * DAY, keep: 5000 });
  });

  it('is what the memory log applies', async () => {
    const log = new MemoryEventLog();
    const event = (id: string, time: number) =>
      ({ id, time, type: 'custom', name: id, anonymousId: 'a', sessionId: 's', channel: 'web' }) as TrackedEvent;
    await log.append([event('x', 5), event('y', 50), event('z', 60)]);
    expect(await log.evict({ before: 10, keep: 1 })).toBe(2);
    expect((await log.list()).map((e) => e.id)).toEqual(['z']);
  });
});

describe('the personalizer keeps its log within the retention limits', () => {
  it('evicts the oldest events beyond maxEvents as it writes', async () => {
    const { personalizer, log, advance } = setupPersonalizer({ retention: { maxEvents: 3 } });
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      personalizer.track({ type: 'view', item: item(id) });
      advance(10_000);
    }
    await personalizer.flush();
    expect((await log.list()).map((event) => (event.type === 'view' ? event.item.id : ''))).toEqual(['c', 'd', 'e']);
  });

  it('evicts events past maxAgeDays when it starts, before anything reads them', async () => {
    const first = setupPersonalizer({ retention: { maxAgeDays: 30 } });
    first.personalizer.track({ type: 'view', item: item('old') });
    await first.personalizer.flush();
    // The shopper comes back 31 days later.
    const later = setupPersonalizer(
      { retention: { maxAgeDays: 30 } },
      { log: first.log, kv: first.kv, now: () => START + 31 * DAY, randomId: () => `later-${Math.random()}` },
    );
    expect((await later.personalizer.profile()).events).toBe(0);
    expect(await first.log.count()).toBe(0);
  });
});

describe('retention and cleaning options', () => {
  it('refuses bounds that are not numbers in range', () => {
    expect(() => setupPersonalizer({ retention: { maxEvents: 0 } })).toThrow(
      /retention\.maxEvents must be a finite number of at least 1, received number 0/u,
    );
    expect(() => setupPersonalizer({ retention: { maxAgeDays: -1 } })).toThrow(/retention\.maxAgeDays/u);
    expect(() => setupPersonalizer({ cleaning: { maxPrice: Number.NaN } })).toThrow(/cleaning\.maxPrice/u);
    expect(() => setupPersonalizer({ cleaning: { repeatViewMs: '5s' as unknown as number } })).toThrow(
      /cleaning\.repeatViewMs .* received the string "5s"/u,
    );
    expect(() => setupPersonalizer({ cleaning: { repeatViewMs: 0 }, retention: { maxEvents: 1 } })).not.toThrow();
  });
});
