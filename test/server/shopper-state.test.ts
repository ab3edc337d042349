import { sign } from 'hono/jwt';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ShopperEventsPage,
  ShopperEventsPageSchema,
  type ShopperEventsReceipt,
  ShopperEventsReceiptSchema,
} from '../../src/core/sync/protocol.js';
import { SHOPPER_TOKEN_AUDIENCE, signShopperToken } from '../../src/server/index.js';
import { ADMIN_TOKEN, expectError, type Running, startServer } from './helpers.js';

const SECRET = 'a-site-secret-of-at-least-32-characters';
const NOW = Date.parse('2026-11-02T10:00:00Z');

/** A product view from `channel`, as a device syncs it. */
function view(id: string, item: string, time = NOW, channel = 'web') {
  return {
    id,
    type: 'view',
    time,
    sessionId: `s-${channel}`,
    channel,
    item: { id: item, category: 'Shoes > Running' },
  };
}

function authorized(token: string | null, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  return { ...init, headers };
}

describe('signed-in shoppers’ synced logs', () => {
  let running: Running;
  let url: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    running = await startServer({ siteSecret: SECRET, adminToken: ADMIN_TOKEN, maxShopperEvents: 60 });
    url = running.url;
    [alice, bob] = await Promise.all([signShopperToken(SECRET, 'alice'), signShopperToken(SECRET, 'bob')]);
  });
  afterAll(() => running.stop());

  const post = (token: string | null, events: unknown[]) =>
    fetch(`${url}/v1/shopper/events`, authorized(token, { method: 'POST', body: JSON.stringify({ events }) }));
  const read = (token: string | null, after = 0) => fetch(`${url}/v1/shopper/events?after=${after}`, authorized(token));

  async function receipt(response: Response): Promise<ShopperEventsReceipt> {
    expect(response.status).toBe(200);
    return v.parse(ShopperEventsReceiptSchema, await response.json());
  }

  async function page(token: string, after = 0): Promise<ShopperEventsPage> {
    const response = await read(token, after);
    expect(response.status).toBe(200);
    return v.parse(ShopperEventsPageSchema, await response.json());
  }

  /** Every event after `after`, page by page. */
  async function all(token: string, after = 0): Promise<{ ids: string[]; version: number; pages: number }> {
    const ids: string[] = [];
    let pages = 0;
    let cursor = after;
    for (;;) {
      const next = await page(token, cursor);
      pages++;
      ids.push(...next.events.map((event) => event.id));
      cursor = next.version;
      if (!next.more) return { ids, version: cursor, pages };
    }
  }

  it('refuses requests without a valid token for this server, and serves on', async () => {
    const expired = await signShopperToken(SECRET, 'alice', { now: NOW - 2 * 86_400_000 });
    const forged = await signShopperToken('another-secret-of-at-least-32-chars', 'alice');
    const exp = Math.floor(Date.now() / 1000) + 600;
    const otherAudience = await sign({ sub: 'alice', aud: 'someone-else', exp }, SECRET, 'HS256');
    const forever = await sign({ sub: 'alice', aud: SHOPPER_TOKEN_AUDIENCE }, SECRET, 'HS256');
    const nobody = await sign({ aud: SHOPPER_TOKEN_AUDIENCE, exp }, SECRET, 'HS256');
    for (const token of [null, 'not-a-jwt', expired, forged, otherAudience, forever, nobody]) {
      await expectError(await read(token), 401, 'UNAUTHORIZED');
      await expectError(await post(token, [view('e1', 'sku-1')]), 401, 'UNAUTHORIZED');
      await expectError(await fetch(`${url}/v1/shopper`, authorized(token, { method: 'DELETE' })), 401, 'UNAUTHORIZED');
    }
    expect((await page(alice)).events).toEqual([]);
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
  });

  it('keeps each shopper’s events to their own token', async () => {
    const written = await receipt(await post(alice, [view('a1', 'sku-1'), view('a2', 'sku-2', NOW + 1)]));
    expect(written.added).toBe(2);
    const mine = await page(alice);
    expect(mine.events.map((event) => event.id)).toEqual(['a1', 'a2']);
    expect(mine.events[0]).toEqual(view('a1', 'sku-1'));
    expect(mine).toMatchObject({ version: written.version, more: false });
    expect((await page(bob)).events).toEqual([]);
  });

  it('merges writes from two channels at once without losing any, and adds a retried event once', async () => {
    const before = (await page(bob)).version;
    const web = Array.from({ length: 20 }, (_, i) => view(`web-${i}`, `sku-${i}`, NOW + i, 'web'));
    const app = Array.from({ length: 20 }, (_, i) => view(`app-${i}`, `sku-${i}`, NOW + i, 'app'));
    // Each channel also resends one event the other wrote: a retry after a lost answer.
    const receipts = await Promise.all([
      post(bob, [...web, app[0]]).then(receipt),
      post(bob, [...app, web[0]]).then(receipt),
    ]);
    expect(receipts.reduce((sum, r) => sum + r.added, 0)).toBe(40);
    const { ids, version } = await all(bob, before);
    expect(new Set(ids).size).toBe(40);
    expect(ids.length).toBe(40);
    expect(version).toBe(Math.max(...receipts.map((r) => r.version)));

    const again = await receipt(await post(bob, web.slice(0, 5)));
    expect(again).toEqual({ version, added: 0 });
    expect((await page(bob, version)).events).toEqual([]);
  });

  it('pages by whole writes, and keeps the most recent events', async () => {
    const carol = await signShopperToken(SECRET, 'carol');
    const batches = [0, 1, 2].map((batch) =>
      Array.from({ length: 40 }, (_, i) => view(`c-${batch}-${i}`, `sku-${i}`, NOW + batch * 100 + i)),
    );
    const versions: number[] = [];
    for (const batch of batches) versions.push((await receipt(await post(carol, batch))).version);
    // 120 written, 60 kept: the newest by time.
    const kept = await all(carol);
    expect(kept.ids).toEqual(
      batches
        .slice(1)
        .flat()
        .slice(-60)
        .map((event) => event.id),
    );
    expect(kept.version).toBe(versions[2]);

    // A device that has read the first write gets only what came after it.
    const later = await all(carol, versions[0]);
    expect(later.ids).toEqual(kept.ids);
    expect((await all(carol, versions[1])).ids).toEqual(batches[2]?.map((event) => event.id));
  });

  it('refuses malformed events with 400 and stores none of the request', async () => {
    const dave = await signShopperToken(SECRET, 'dave');
    const good = view('d1', 'sku-1');
    const cases: unknown[][] = [
      [good, { ...view('d2', 'sku-2'), time: 'yesterday' }],
      [good, { ...view('d3', 'sku-3'), type: 'teleport' }],
      [good, { type: 'view', item: { id: 'sku-4' } }],
      [good, { ...view('d5', 'sku-5'), channel: 'Web Shop!' }],
      [good, { ...view('d6', 'sku-6'), item: { id: '' } }],
    ];
    for (const events of cases) await expectError(await post(dave, events), 400, 'INVALID_PAYLOAD');
    const tooMany = Array.from({ length: 501 }, (_, i) => view(`d-${i}`, 'sku-1'));
    await expectError(await post(dave, tooMany), 400, 'INVALID_REQUEST');
    await expectError(
      await fetch(`${url}/v1/shopper/events`, authorized(dave, { method: 'POST', body: '{"events": [' })),
      400,
      'INVALID_REQUEST',
    );
    await expectError(
      await fetch(
        `${url}/v1/shopper/events`,
        authorized(dave, { method: 'POST', body: JSON.stringify({ events: 'x' }) }),
      ),
      400,
      'INVALID_REQUEST',
    );
    await expectError(await read(dave, -1), 400, 'INVALID_REQUEST');
    const huge = [{ ...good, properties: { note: 'x'.repeat(3 * 1024 * 1024) } }];
    await expectError(await post(dave, huge), 413, 'PAYLOAD_TOO_LARGE');
    expect(await page(dave)).toEqual({ events: [], version: 0, more: false });
  });

  it('takes a POS purchase from the shop’s backend and hands it to the shopper’s devices', async () => {
    const erin = await signShopperToken(SECRET, 'erin');
    const { version } = await page(erin);
    const purchase = {
      id: 'pos-order-77',
      type: 'purchase',
      time: NOW,
      orderId: 'order-77',
      currency: 'EUR',
      items: [{ item: { id: 'sku-9', price: 30 }, quantity: 1 }],
    };
    const send = (token: string | null, path = 'erin') =>
      fetch(
        `${url}/v1/shoppers/${path}/events`,
        authorized(token, { method: 'POST', body: JSON.stringify({ events: [purchase] }) }),
      );
    await expectError(await send(null), 401, 'UNAUTHORIZED');
    await expectError(await send('wrong-admin-token'), 403, 'FORBIDDEN');
    // A shopper token is not an operator token: a shopper cannot post till receipts.
    await expectError(await send(erin), 403, 'FORBIDDEN');
    expect((await receipt(await send(ADMIN_TOKEN))).added).toBe(1);

    const events = (await page(erin, version)).events;
    expect(events).toEqual([{ ...purchase, channel: 'pos', sessionId: 'pos-2026-11-02' }]);
    expect((await page(alice)).events.map((event) => event.id)).not.toContain('pos-order-77');
  });

  it('removes events on every channel: later pages name them, and pushing them again adds nothing', async () => {
    const gail = await signShopperToken(SECRET, 'gail');
    const { version } = await receipt(
      await post(gail, [view('g1', 'sku-1'), view('g2', 'sku-2'), view('g3', 'sku-3')]),
    );
    const remove = (token: string | null, ids: unknown) =>
      fetch(`${url}/v1/shopper/removals`, authorized(token, { method: 'POST', body: JSON.stringify({ ids }) }));

    const removal = await remove(gail, ['g1', 'g3', 'never-seen']);
    expect(removal.status).toBe(200);
    const removed = (await removal.json()) as { version: number; removed: number };
    expect(removed.removed).toBe(3);
    expect(removed.version).toBeGreaterThan(version);
    // A device that read up to `version` learns of the removals; one that starts afresh sees g2 only.
    const after = await page(gail, version);
    expect(after.events).toEqual([]);
    expect(after.removed?.sort()).toEqual(['g1', 'g3', 'never-seen']);
    expect((await page(gail)).events.map((event) => event.id)).toEqual(['g2']);
    // Another channel that still has g1, or never pulled the removal, pushes it again: nothing added.
    expect(await receipt(await post(gail, [view('g1', 'sku-1'), view('never-seen', 'sku-9')]))).toEqual({
      version: removed.version,
      added: 0,
    });
    // Removing again changes nothing; the shopper's own token only; the body is checked.
    expect(await (await remove(gail, ['g1'])).json()).toEqual({ version: removed.version, removed: 0 });
    expect((await remove(null, ['g2'])).status).toBe(401);
    await expectError(await remove(gail, []), 400, 'INVALID_REQUEST');
    expect((await page(alice)).removed).toBeUndefined();
  });

  it('forgets a shopper on DELETE, and cursors from before still see what comes after', async () => {
    const frank = await signShopperToken(SECRET, 'frank');
    const { version } = await receipt(await post(frank, [view('f1', 'sku-1')]));
    const deleted = await fetch(`${url}/v1/shopper`, authorized(frank, { method: 'DELETE' }));
    expect(deleted.status).toBe(204);
    expect((await page(frank)).events).toEqual([]);
    expect((await page(alice)).events.length).toBeGreaterThan(0);

    await receipt(await post(frank, [view('f2', 'sku-2')]));
    expect((await page(frank, version)).events.map((event) => event.id)).toEqual(['f2']);
  });
});

describe('a server without a site secret', () => {
  let running: Running;
  beforeAll(async () => {
    running = await startServer();
  });
  afterAll(() => running.stop());

  it('answers 403 on the shopper routes', async () => {
    const token = await signShopperToken(SECRET, 'alice');
    const response = await fetch(`${running.url}/v1/shopper/events`, authorized(token));
    await expectError(response, 403, 'FORBIDDEN');
  });
});

describe('signShopperToken', () => {
  it('refuses a short secret, an empty user id and a non-positive lifetime', async () => {
    await expect(signShopperToken('short', 'alice')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(signShopperToken(SECRET, '')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(signShopperToken(SECRET, 'alice', { expiresIn: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});
