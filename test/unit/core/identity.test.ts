import { describe, expect, it } from 'vitest';
import { MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import { Identity, migrateIdentity, SESSION_TIMEOUT_MS } from '../../../src/core/personalizer/identity.js';
import { item, recentlyViewed, setupPersonalizer } from './setup-personalizer.js';

function identity() {
  let id = 0;
  return new Identity(new MemoryKeyValueStore(), () => `id-${++id}`);
}

describe('Identity', () => {
  it('starts a new session after 30 minutes of inactivity, not before', async () => {
    const who = identity();
    await who.load();
    const first = who.touch(1000);
    expect(who.touch(1000 + SESSION_TIMEOUT_MS).sessionId).toBe(first.sessionId);
    const next = who.touch(2001 + 2 * SESSION_TIMEOUT_MS);
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(next.anonymousId).toBe(first.anonymousId);
  });

  it('links the anonymous id on sign-in, starts over on sign-out, and restores the links on the next sign-in', async () => {
    const who = identity();
    await who.load();
    const anonymous = who.touch(0).anonymousId;
    expect(who.shopper()).toEqual({ anonymousIds: [anonymous] });

    expect(who.signIn('ann', 1)).toBe(false);
    expect(who.touch(2)).toMatchObject({ anonymousId: anonymous, userId: 'ann' });
    expect(who.shopper()).toEqual({ anonymousIds: [anonymous], userId: 'ann' });

    expect(who.signOut()).toBe(true);
    const next = who.touch(3);
    expect(next.anonymousId).not.toBe(anonymous);
    expect(next.userId).toBeUndefined();
    expect(who.shopper()).toEqual({ anonymousIds: [next.anonymousId] });
    expect(who.userOf(anonymous)).toBe('ann');

    who.signIn('ann', 4);
    expect(who.shopper()).toEqual({ anonymousIds: [anonymous, next.anonymousId], userId: 'ann' });
  });

  it('signs the previous user out when another signs in, and ignores sign-out when no one is signed in', async () => {
    const who = identity();
    await who.load();
    const anonymous = who.touch(0).anonymousId;
    expect(who.signOut()).toBe(false);
    expect(who.touch(1).anonymousId).toBe(anonymous);
    who.signIn('ann', 2);
    expect(who.signIn('bob', 3)).toBe(true);
    const bob = who.touch(4);
    expect(bob.anonymousId).not.toBe(anonymous);
    expect(who.shopper()).toEqual({ anonymousIds: [bob.anonymousId], userId: 'bob' });
  });

  it('migrates a version 1 record: a signed-in shopper keeps their anonymous history', () => {
    expect(migrateIdentity({ anonymousId: 'a', sessionId: 's', lastActivity: 5, userId: 'ann' })).toEqual({
      version: 2,
      anonymousId: 'a',
      sessionId: 's',
      lastActivity: 5,
      userId: 'ann',
      links: [{ anonymousId: 'a', userId: 'ann', at: 5 }],
    });
    expect(migrateIdentity({ anonymousId: 'a', sessionId: 's', lastActivity: 5 }).links).toEqual([]);
  });
});

describe('identify()', () => {
  it('applies in call order with track(): events before it stay anonymous, events after carry the user', async () => {
    const { personalizer, log } = setupPersonalizer();
    personalizer.track({ type: 'custom', name: 'before' });
    void personalizer.identify('ann');
    personalizer.track({ type: 'custom', name: 'after' });
    await personalizer.flush();
    const stored = await log.list();
    expect(stored.map((event) => [event.type === 'custom' ? event.name : '', event.userId])).toEqual([
      ['before', undefined],
      ['after', 'ann'],
    ]);
    expect(new Set(stored.map((event) => event.anonymousId)).size).toBe(1);
  });

  it('stitches the anonymous history to the user: history reads it as theirs', async () => {
    const { personalizer } = setupPersonalizer();
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.identify('ann');
    personalizer.track({ type: 'view', item: item('b') });
    const profile = await personalizer.profile();
    expect(profile.events).toBe(2);
    expect(await recentlyViewed(personalizer)).toEqual(['b', 'a']);
  });

  it('on sign-out keeps the old history stored but out of what the next shopper sees, until the user is back', async () => {
    const { personalizer, log, advance } = setupPersonalizer();
    personalizer.track({ type: 'view', item: item('anon-before-login') });
    await personalizer.identify('ann');
    personalizer.track({ type: 'view', item: item('ann-signed-in') });
    await personalizer.identify(undefined);
    advance(10_000);
    personalizer.track({ type: 'view', item: item('next-shopper') });
    expect(await recentlyViewed(personalizer)).toEqual(['next-shopper']);
    expect((await personalizer.profile()).events).toBe(1);
    expect(await log.count()).toBe(3);

    const stored = await log.list();
    const [before, during, after] = stored;
    expect(after?.anonymousId).not.toBe(before?.anonymousId);
    expect(after?.sessionId).not.toBe(during?.sessionId);
    expect(after?.userId).toBeUndefined();

    await personalizer.identify('ann');
    expect(await recentlyViewed(personalizer)).toEqual(['next-shopper', 'ann-signed-in', 'anon-before-login']);
  });

  it('survives a reload: a new personalizer over the same storage is the same shopper', async () => {
    const first = setupPersonalizer();
    first.personalizer.track({ type: 'view', item: item('a') });
    await first.personalizer.identify('ann');
    await first.personalizer.flush();
    let n = 0;
    const second = setupPersonalizer({}, { log: first.log, kv: first.kv, randomId: () => `reload-${++n}` });
    second.personalizer.track({ type: 'view', item: item('b') });
    await second.personalizer.flush();
    const [a, b] = await first.log.list();
    expect(b?.anonymousId).toBe(a?.anonymousId);
    expect(b?.userId).toBe('ann');
  });

  it('refuses a malformed user id', async () => {
    const { personalizer } = setupPersonalizer();
    await expect(personalizer.identify('')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(personalizer.identify(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});
