import { describe, expect, it } from 'vitest';
import type { Transport, TransportRequest } from '../../../src/core/adapters.js';
import { capConsent, consentCap } from '../../../src/core/consent.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import { item, setupPersonalizer } from './setup-personalizer.js';

describe('consent caps', () => {
  it('caps at on-device under GPC or DNT, GPC first, and never raises a tier', () => {
    expect(consentCap({})).toBeUndefined();
    expect(consentCap({ globalPrivacyControl: false, doNotTrack: false })).toBeUndefined();
    expect(consentCap({ doNotTrack: true })).toEqual({ tier: 'on-device', by: 'dnt' });
    expect(consentCap({ globalPrivacyControl: true, doNotTrack: true })).toEqual({ tier: 'on-device', by: 'gpc' });
    const cap = consentCap({ globalPrivacyControl: true });
    expect(capConsent('synced', cap)).toBe('on-device');
    expect(capConsent('federated', cap)).toBe('on-device');
    expect(capConsent('on-device', cap)).toBe('on-device');
    expect(capConsent('none', cap)).toBe('none');
    expect(capConsent('synced', undefined)).toBe('synced');
  });

  it('applies the cap to the option and to setConsent(), and reports it', async () => {
    const { personalizer } = setupPersonalizer(
      { consent: 'synced' },
      { privacySignals: () => ({ globalPrivacyControl: true }) },
    );
    expect(await personalizer.status()).toMatchObject({ consent: 'on-device', consentCappedBy: 'gpc' });
    await personalizer.setConsent('federated');
    expect((await personalizer.status()).consent).toBe('on-device');
    await personalizer.setConsent('none');
    expect((await personalizer.status()).consent).toBe('none');

    const dnt = setupPersonalizer({ consent: 'federated' }, { privacySignals: () => ({ doNotTrack: true }) });
    expect(await dnt.personalizer.status()).toMatchObject({ consent: 'on-device', consentCappedBy: 'dnt' });
    const plain = setupPersonalizer({ consent: 'federated' }, { privacySignals: () => ({}) });
    expect((await plain.personalizer.status()).consentCappedBy).toBeUndefined();
  });

  it('sends no update under a cap: sync only pulls', async () => {
    const requests: TransportRequest[] = [];
    const transport: Transport = {
      async request(request) {
        requests.push(request);
        return {
          status: 503,
          headers: {},
          body: new TextEncoder().encode('{"error":{"code":"DOWN","message":"down"}}'),
        };
      },
    };
    const { personalizer } = setupPersonalizer(
      { consent: 'synced', endpoint: 'http://sync.test' },
      { transport, privacySignals: () => ({ doNotTrack: true }) },
    );
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.sync().catch(() => undefined);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((request) => request.method === 'GET' && request.body === undefined)).toBe(true);
  });
});

describe('consent none', () => {
  /** Storage that counts every call, to prove `none` never opens it. */
  function countingStorage() {
    const kv = new MemoryKeyValueStore();
    const log = new MemoryEventLog(kv);
    const calls: string[] = [];
    const spy = <T extends object>(target: T, name: string): T =>
      new Proxy(target, {
        get(object, key) {
          const value = Reflect.get(object, key, object);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(`${name}.${String(key)}`);
            return (value as (...a: unknown[]) => unknown).apply(object, args);
          };
        },
      });
    return { log: spy(log, 'log'), kv: spy(kv, 'kv'), calls, raw: { log, kv } };
  }

  it('never touches storage: no reads, no writes, nothing counted', async () => {
    const storage = countingStorage();
    const { personalizer, rejections } = setupPersonalizer({ consent: 'none' }, { log: storage.log, kv: storage.kv });
    expect(personalizer.track({ type: 'view', item: item('a') })).toBeUndefined();
    await personalizer.identify('ann');
    await personalizer.flush();
    expect(await personalizer.recommend({ kind: 'recently-viewed' })).toEqual([]);
    expect((await personalizer.profile()).events).toBe(0);
    expect(await personalizer.status()).toMatchObject({ consent: 'none', events: 0, queued: 0 });
    expect(storage.calls).toEqual([]);
    expect(rejections).toEqual([]);
  });

  it('keeps a sign-in made under none until consent allows storing, then applies it in order', async () => {
    const { personalizer, log } = setupPersonalizer({ consent: 'none' });
    await personalizer.identify('ann');
    await personalizer.setConsent('on-device');
    personalizer.track({ type: 'custom', name: 'after-consent' });
    await personalizer.flush();
    expect((await log.list()).map((event) => event.userId)).toEqual(['ann']);
  });

  it('setConsent("none") forgets everything stored and queued', async () => {
    const { personalizer, log, kv } = setupPersonalizer();
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.flush();
    personalizer.track({ type: 'view', item: item('b') });
    await personalizer.setConsent('none');
    expect(await log.count()).toBe(0);
    expect(await kv.get('identity')).toBeUndefined();
    expect((await personalizer.status()).queued).toBe(0);
  });
});
