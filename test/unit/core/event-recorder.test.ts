import { describe, expect, it } from 'vitest';
import type { AppendResult, EventLog } from '../../../src/core/adapters.js';
import type { TrackedEvent } from '../../../src/core/event.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import { item, setupPersonalizer } from './setup-personalizer.js';

const PLAYWRIGHT = {
  webdriver: true,
  userAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
  languages: 2,
};

describe('cleaning before storing', () => {
  it('counts every rejection by reason and stores none of them', async () => {
    const { personalizer, log, advance, now, rejections } = setupPersonalizer({ cleaning: { maxPrice: 500 } });
    personalizer.track({ type: 'view', item: item('a') });
    expect(() => personalizer.track({ type: 'view', item: { id: 'b', price: -1 } })).toThrow(/item\.price/u);
    expect(personalizer.track({ type: 'view', item: item('c', 'Coffee', 501) })).toBeUndefined();
    expect(personalizer.track({ type: 'custom', name: 'late', time: now() + 3_600_000 })).toBeUndefined();
    personalizer.track({ type: 'view', item: item('a') }); // repeated view, 0 ms later
    personalizer.track({ type: 'custom', name: 'retried', id: 'order-1' });
    personalizer.track({ type: 'custom', name: 'retried', id: 'order-1' });
    advance(60_000);
    personalizer.track({ type: 'view', item: item('a') }); // a minute later: a real second view
    await personalizer.flush();

    const status = await personalizer.status();
    expect(status.rejected).toEqual({ invalid: 1, duplicate: 2, bot: 0, anomaly: 2 });
    expect(status.events).toBe(3);
    expect((await log.list()).map((event) => event.type)).toEqual(['view', 'custom', 'view']);
    expect(rejections.map((rejection) => rejection.reason)).toEqual([
      'invalid',
      'anomaly',
      'anomaly',
      'duplicate',
      'duplicate',
    ]);
    expect(rejections[1]?.detail).toMatch(/item\.price 501 is above the highest believable price 500/u);
  });

  it('catches an id already stored by an earlier page', async () => {
    const kv = new MemoryKeyValueStore();
    const log = new MemoryEventLog(kv);
    const order = {
      type: 'purchase' as const,
      id: 'order-7',
      orderId: 'order-7',
      items: [{ item: item('a'), quantity: 1 }],
    };
    const first = setupPersonalizer({}, { log, kv });
    first.personalizer.track(order);
    await first.personalizer.flush();
    // The order confirmation page is reloaded two hours later.
    let n = 0;
    const reload = setupPersonalizer(
      {},
      { log, kv, randomId: () => `reload-${++n}`, now: () => first.now() + 7_200_000 },
    );
    reload.personalizer.track(order);
    await reload.personalizer.flush();
    expect(await log.count()).toBe(1);
    expect((await reload.personalizer.status()).rejected.duplicate).toBe(1);
  });

  it('refuses an event flood and keeps refusing while it lasts', async () => {
    const { personalizer, advance } = setupPersonalizer({ cleaning: { maxEventsPerSecond: 10 } });
    for (let i = 0; i < 50; i++) {
      personalizer.track({ type: 'custom', name: `loop-${i}` });
      advance(20);
    }
    await personalizer.flush();
    expect(await personalizer.status()).toMatchObject({ events: 10, rejected: { anomaly: 40 } });
  });

  it('drops everything from automation by default, and keeps it with botFilter: false', async () => {
    const bot = setupPersonalizer({}, { automationSignals: () => PLAYWRIGHT });
    expect(bot.personalizer.track({ type: 'view', item: item('a') })).toBeUndefined();
    await bot.personalizer.flush();
    expect(await bot.personalizer.status()).toMatchObject({
      events: 0,
      rejected: { bot: 1 },
      automation: ['webdriver', 'headless'],
    });
    expect(bot.rejections[0]?.detail).toBe('the page is driven by automation (webdriver, headless)');

    const allowed = setupPersonalizer({ botFilter: false }, { automationSignals: () => PLAYWRIGHT });
    allowed.personalizer.track({ type: 'view', item: item('a') });
    await allowed.personalizer.flush();
    const status = await allowed.personalizer.status();
    expect(status.events).toBe(1);
    expect(status.automation).toBeUndefined();
  });

  it('gives SDK-timed events strictly increasing times, so the log keeps call order', async () => {
    const { personalizer, log } = setupPersonalizer();
    for (let i = 0; i < 5; i++) personalizer.track({ type: 'custom', name: `call-${i}` });
    await personalizer.flush();
    const times = (await log.list()).map((event) => event.time);
    expect(times.every((time, i) => i === 0 || time > (times[i - 1] ?? 0))).toBe(true);
  });
});

describe('writing', () => {
  /** A log that records when append was called and can be made to fail. */
  class ProbeLog extends MemoryEventLog {
    appends: number[] = [];
    failures = 0;
    override async append(
      events: readonly TrackedEvent[],
      records?: Readonly<Record<string, unknown>>,
    ): Promise<AppendResult> {
      this.appends.push(events.length);
      if (this.failures > 0) {
        this.failures--;
        throw new Error('disk on fire');
      }
      return super.append(events, records);
    }
  }

  it('starts writing synchronously when the page is hidden, with the identity in the same write', async () => {
    const kv = new MemoryKeyValueStore();
    const log = new ProbeLog(kv);
    let hide = () => {};
    const { personalizer } = setupPersonalizer(
      {},
      {
        log,
        kv,
        onHidden: (listener) => {
          hide = listener;
          return () => {};
        },
      },
    );
    await personalizer.profile(); // storage opened and the identity loaded, as shortly after page load
    personalizer.track({ type: 'view', item: item('a') });
    personalizer.track({ type: 'view', item: item('b') });
    expect(log.appends).toEqual([]);
    hide();
    // No await between the hidden event and the write: a closing page gets no second chance.
    expect(log.appends).toEqual([2]);
    await personalizer.flush();
    expect(await log.count()).toBe(2);
    expect(await kv.get('identity')).toMatchObject({ version: 2 });
  });

  it('keeps a batch whose write failed and writes it on the next flush', async () => {
    const kv = new MemoryKeyValueStore();
    const log = new ProbeLog(kv);
    const { personalizer, errors } = setupPersonalizer({}, { log, kv });
    log.failures = 1;
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.flush();
    expect(errors.map((error) => error.message)).toEqual(['Storing events failed: disk on fire']);
    expect(await personalizer.status()).toMatchObject({ events: 0, queued: 1 });
    await personalizer.flush();
    expect(await personalizer.status()).toMatchObject({ events: 1, queued: 0 });
    expect((await log.list())[0]?.anonymousId).toMatch(/^id-/u);
  });

  it('batches: many tracks, one write', async () => {
    const kv = new MemoryKeyValueStore();
    const log = new ProbeLog(kv);
    const { personalizer } = setupPersonalizer({}, { log, kv });
    for (const id of ['a', 'b', 'c', 'd']) personalizer.track({ type: 'view', item: item(id) });
    expect((await personalizer.status()).queued).toBe(4);
    await personalizer.flush();
    expect(log.appends).toEqual([4]);
  });
});

describe('forget()', () => {
  it('wipes the log, the key-value store, the queue and the identity, and erases the storage', async () => {
    const kv = new MemoryKeyValueStore();
    const log: EventLog = new MemoryEventLog(kv);
    let erased = 0;
    const { personalizer } = setupPersonalizer(
      {},
      {
        log,
        kv,
        eraseStorage: async () => {
          erased++;
        },
      },
    );
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.identify('ann');
    const before = (await log.list())[0]?.anonymousId;
    personalizer.track({ type: 'view', item: item('queued') });
    await personalizer.forget();
    expect(await log.count()).toBe(0);
    expect(await kv.get('identity')).toBeUndefined();
    expect(erased).toBe(1);
    expect(await personalizer.status()).toMatchObject({ events: 0, queued: 0, catalogSize: 0 });

    personalizer.track({ type: 'view', item: item('b') });
    await personalizer.flush();
    const after = await log.list();
    expect(after).toHaveLength(1);
    expect(after[0]?.anonymousId).not.toBe(before);
    expect(after[0]?.userId).toBeUndefined();
  });
});

describe('two tabs opened at once on a first visit', () => {
  it('record one shopper: the tab that stores second takes the identity the first stored', async () => {
    const kv = new MemoryKeyValueStore();
    const log = new MemoryEventLog(kv);
    let ids = 0;
    const tab = (name: string) => setupPersonalizer({}, { kv, log, randomId: () => `${name}-${++ids}` }).personalizer;
    const [first, second] = [tab('a'), tab('b')];
    // Both load their identity before either has stored one.
    await Promise.all([first.profile(), second.profile()]);
    first.track({ type: 'view', item: item('x') });
    await first.flush();
    second.track({ type: 'view', item: item('y') });
    await second.flush();
    const stored = await log.list({});
    expect(new Set(stored.map((event) => event.anonymousId)).size).toBe(1);
    expect((await second.recommend({ kind: 'recently-viewed', count: 5 })).map((pick) => pick.item.id)).toEqual([
      'y',
      'x',
    ]);
  });
});
