import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchTransport } from '../../src/browser/fetch-transport.js';
import type { Transport } from '../../src/core/adapters.js';
import type { ConsentTier } from '../../src/core/consent.js';
import type { PersonalizerOptions } from '../../src/core/personalizer/options.js';
import { SYNCED_ANONYMOUS_ID } from '../../src/core/personalizer/shopper-sync.js';
import { signShopperToken } from '../../src/server/index.js';
import { ArithmeticRuntime } from '../unit/core/arithmetic-runtime.js';
import { type Harness, item, setupPersonalizer } from '../unit/core/setup-personalizer.js';
import { ADMIN_TOKEN, type Running, startServer } from './helpers.js';

const SECRET = 'cross-channel-site-secret-of-32-chars!';

/** Requests a device sent, by method and path without the query. */
type Sent = string[];

describe('one signed-in shopper on two channels, through the real server', () => {
  let running: Running;
  const catalog = [
    ...['a', 'b', 'c', 'd'].map((id) => item(`coffee-${id}`, 'Coffee', 8)),
    ...['a', 'b', 'c', 'd'].map((id) => item(`tea-${id}`, 'Tea', 6)),
  ];
  beforeAll(async () => {
    running = await startServer({ siteSecret: SECRET, adminToken: ADMIN_TOKEN, modelDim: 4 });
    await running.server.importCatalog(catalog);
  });
  afterAll(() => running.stop());

  let devices = 0;
  /**
   * A device of `channel`: the core over memory storage, talking to the server over HTTP; while
   * `offline` is set its requests fail as an unreachable server's do.
   */
  function device(channel: string, consent: ConsentTier, options: PersonalizerOptions = {}) {
    const sent: Sent = [];
    const keptAlive: string[] = [];
    const network = { offline: false };
    let hidden: (() => void) | undefined;
    const http = createFetchTransport(running.url);
    const transport: Transport = {
      async request(request) {
        if (network.offline) throw new TypeError('fetch failed');
        sent.push(`${request.method} ${request.path.split('?')[0]}`);
        if (request.keepalive) keptAlive.push(`${request.method} ${request.path}`);
        return http.request(request);
      },
    };
    const runtime = new ArithmeticRuntime();
    // Event ids are random on a real device; here each device numbers its own.
    const prefix = `${channel}-${++devices}`;
    let ids = 0;
    const harness: Harness = setupPersonalizer(
      // Only the syncs a test makes: a background one after training would race them for what is new.
      { channel, consent, endpoint: running.url, syncAfterTraining: false, ...options },
      {
        transport,
        loadRuntime: async () => runtime,
        randomId: () => `${prefix}-${++ids}`,
        onHidden: (listener) => {
          hidden = listener;
          return () => {};
        },
        syncRetry: { firstMs: 40, maxMs: 200 },
      },
    );
    return { ...harness, sent, keptAlive, network, runtime, hide: () => hidden?.() };
  }

  /** What the server holds for the shopper of `token`: their first page of synced events. */
  async function serverEvents(token: string): Promise<Array<{ id: string; item?: { id: string } }>> {
    const response = await fetch(`${running.url}/v1/shopper/events`, { headers: { authorization: `Bearer ${token}` } });
    return ((await response.json()) as { events: Array<{ id: string; item?: { id: string } }> }).events;
  }

  const view = (harness: Harness, id: string) => {
    harness.advance(60_000);
    harness.personalizer.track({ type: 'view', item: catalog.find((entry) => entry.id === id) ?? item(id) });
  };

  it('shows the same profile and history on both after one sync each, and a POS purchase on both', async () => {
    const token = await signShopperToken(SECRET, 'ana');
    const web = device('web', 'synced');
    const app = device('app', 'synced');
    app.advance(30 * 60_000);
    await web.personalizer.identify('ana', { token });
    await app.personalizer.identify('ana', { token });
    for (const id of ['coffee-a', 'coffee-b', 'tea-a']) view(web, id);
    view(app, 'coffee-c');

    const first = await web.personalizer.sync();
    expect(first.shopper).toMatchObject({ pushed: 3, pulled: 0 });
    const second = await app.personalizer.sync();
    expect(second.shopper).toMatchObject({ pushed: 1, pulled: 3 });
    const third = await web.personalizer.sync();
    expect(third.shopper).toMatchObject({ pushed: 0, pulled: 1 });

    // Read at the same moment: recency and propensity depend on the time.
    const later = Math.max(web.now(), app.now());
    web.advance(later - web.now());
    app.advance(later - app.now());
    const [webProfile, appProfile] = await Promise.all([web.personalizer.profile(), app.personalizer.profile()]);
    expect(webProfile.events).toBe(4);
    expect(appProfile).toEqual(webProfile);
    expect(webProfile.channels).toEqual({ web: 0.75, app: 0.25 });
    const viewed = async (harness: Harness) =>
      (await harness.personalizer.recommend({ kind: 'recently-viewed', count: 10 })).map((pick) => pick.item.id);
    expect(await viewed(app)).toEqual(await viewed(web));
    expect(await viewed(app)).toEqual(['coffee-c', 'tea-a', 'coffee-b', 'coffee-a']);

    // One global version and one log: both fine-tune with the same seed, so their models agree.
    await Promise.all([web.personalizer.train(), app.personalizer.train()]);
    const fineTuneSeed = (runtime: ArithmeticRuntime) =>
      runtime.trainedWith.filter((options) => options.keepShare !== undefined).at(-1)?.seed;
    expect(fineTuneSeed(web.runtime)).toEqual(expect.any(Number));
    expect(fineTuneSeed(app.runtime)).toBe(fineTuneSeed(web.runtime));

    // The till posts a purchase through the shop's backend; both channels see it at their next sync.
    const purchase = {
      id: 'till-1',
      type: 'purchase',
      time: web.now() + 3_600_000,
      orderId: 'till-1',
      items: [{ item: { id: 'tea-b' }, quantity: 1 }],
    };
    const posted = await fetch(`${running.url}/v1/shoppers/ana/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [purchase] }),
    });
    expect(posted.status).toBe(200);
    for (const harness of [web, app]) {
      expect((await harness.personalizer.sync()).shopper?.pulled).toBe(1);
      const picks = await harness.personalizer.recommend({ kind: 'for-you', count: 10 });
      expect(picks.map((pick) => pick.item.id)).not.toContain('tea-b');
      expect((await harness.personalizer.profile()).counts.purchase).toBe(1);
    }
    const stored = await app.log.list();
    expect(stored.find((event) => event.id === 'till-1')).toMatchObject({
      anonymousId: SYNCED_ANONYMOUS_ID,
      userId: 'ana',
      channel: 'pos',
    });
    expect([...web.errors, ...app.errors]).toEqual([]);
  });

  it('sends nothing about the shopper below consent synced, or when no one is signed in', async () => {
    const token = await signShopperToken(SECRET, 'ben');
    const federated = device('web', 'federated');
    await federated.personalizer.identify('ben', { token });
    view(federated, 'coffee-a');
    const report = await federated.personalizer.sync();
    expect(report.shopper).toBeUndefined();
    const anonymous = device('web', 'synced');
    view(anonymous, 'coffee-a');
    expect((await anonymous.personalizer.sync()).shopper).toBeUndefined();
    for (const sent of [federated.sent, anonymous.sent]) {
      expect(sent.filter((line) => line.includes('/v1/shopper'))).toEqual([]);
    }
  });

  it('asks the shopperToken option again when the server refuses an expired token', async () => {
    const expired = await signShopperToken(SECRET, 'cleo', { now: Date.now() - 3 * 86_400_000 });
    const asked: string[] = [];
    const phone = device('app', 'synced', {
      shopperToken: async (userId) => {
        asked.push(userId);
        return signShopperToken(SECRET, userId);
      },
    });
    await phone.personalizer.identify('cleo', { token: expired });
    view(phone, 'tea-c');
    expect((await phone.personalizer.sync()).shopper).toMatchObject({ pushed: 1 });
    expect(asked).toEqual(['cleo']);

    const tokenless = device('web', 'synced');
    await tokenless.personalizer.identify('cleo');
    await expect(tokenless.personalizer.sync()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('forget() deletes the shopper’s synced events on the server too', async () => {
    const token = await signShopperToken(SECRET, 'dora');
    const web = device('web', 'synced');
    await web.personalizer.identify('dora', { token });
    view(web, 'coffee-d');
    await web.personalizer.sync();
    await web.personalizer.forget();
    expect(web.sent).toContain('DELETE /v1/shopper');

    expect(await serverEvents(token)).toEqual([]);
  });

  it('forgetInterest() removes a category from the profile on every channel, and it does not come back', async () => {
    const token = await signShopperToken(SECRET, 'hana');
    const web = device('web', 'synced');
    const app = device('app', 'synced');
    await web.personalizer.identify('hana', { token });
    await app.personalizer.identify('hana', { token });
    for (const id of ['coffee-a', 'tea-a', 'tea-b']) view(web, id);
    await web.personalizer.sync();
    expect((await app.personalizer.sync()).shopper?.pulled).toBe(3);

    // The shopper says tea was a gift: the web shop forgets it, offline at first.
    web.network.offline = true;
    expect(await web.personalizer.forgetInterest('Tea')).toBe(2);
    expect((await web.personalizer.profile()).categories.map((entry) => entry.category)).toEqual(['Coffee']);
    expect(web.errors.map((error) => error.code)).toContain('NETWORK');
    expect((await serverEvents(token)).map((event) => event.id)).toHaveLength(3);
    web.network.offline = false;
    await web.personalizer.sync();
    expect((await serverEvents(token)).map((event) => event.item?.id)).toEqual(['coffee-a']);

    // The app learns of the removal at its next sync; a push of what it held adds nothing back.
    const report = await app.personalizer.sync();
    expect(report.shopper).toMatchObject({ removed: 2, pulled: 0 });
    expect((await app.personalizer.profile()).categories.map((entry) => entry.category)).toEqual(['Coffee']);
    const picks = await app.personalizer.recommend({ kind: 'recently-viewed', count: 10 });
    expect(picks.map((pick) => pick.item.id)).toEqual(['coffee-a']);
    expect(await web.personalizer.forgetInterest('Tea')).toBe(0);
    await expect(web.personalizer.forgetInterest('')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('retries a background sync that found the server unreachable, with backoff, until it gets through', async () => {
    const token = await signShopperToken(SECRET, 'eva');
    const web = device('web', 'synced', { syncAfterTraining: true });
    await web.personalizer.identify('eva', { token });
    await web.personalizer.sync();
    web.network.offline = true;
    view(web, 'tea-d');
    view(web, 'tea-c');
    // Training starts a background sync, as it does after idle training.
    await web.personalizer.train();
    await expect.poll(() => web.errors.filter((error) => error.code === 'NETWORK').length).toBeGreaterThanOrEqual(2);
    web.network.offline = false;
    const read = async () => (await serverEvents(token)).length;
    await expect.poll(read, { timeout: 5_000 }).toBe(2);
  });

  it('keeps a deletion the server could not take, and sends it at the next sync', async () => {
    const token = await signShopperToken(SECRET, 'finn');
    const web = device('web', 'synced');
    await web.personalizer.identify('finn', { token });
    view(web, 'coffee-a');
    await web.personalizer.sync();
    const events = async () => (await serverEvents(token)).length;
    expect(await events()).toBe(1);

    web.network.offline = true;
    await web.personalizer.forget();
    expect(web.errors.map((error) => error.code)).toContain('NETWORK');
    expect(await web.log.count()).toBe(0);
    expect(await events()).toBe(1);

    web.network.offline = false;
    await web.personalizer.sync();
    expect(await events()).toBe(0);
    expect(web.sent.filter((line) => line === 'DELETE /v1/shopper')).toHaveLength(1);
  });

  it('sends the page’s events with keepalive when the page goes away', async () => {
    const token = await signShopperToken(SECRET, 'gus');
    const web = device('web', 'synced');
    await web.personalizer.identify('gus', { token });
    view(web, 'coffee-b');
    view(web, 'tea-b');
    await web.personalizer.flush();
    web.hide();
    expect(web.keptAlive).toEqual(['POST /v1/shopper/events']);
    const read = async () => (await serverEvents(token)).map((event) => event.item?.id);
    await expect.poll(read).toEqual(['coffee-b', 'tea-b']);
    // The next sync sends them again; the server keeps one of each.
    expect((await web.personalizer.sync()).shopper).toMatchObject({ pushed: 0 });
  });
});
