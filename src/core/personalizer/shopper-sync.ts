import type { EventLog, KeyValueStore } from '../adapters.js';
import { OmniPersonaError } from '../errors.js';
import type { TrackedEvent } from '../event.js';
import { SHOPPER_EVENTS_PER_REQUEST, type SyncedEvent } from '../sync/protocol.js';
import type { SyncClient } from '../sync/sync-client.js';

/** The anonymous id of events that came from the shopper's other channels, not from this device. */
export const SYNCED_ANONYMOUS_ID = 'synced';

const STATE_KEY = 'shopper-sync';
/** Requests that must reach the server even though the device has since forgotten who asked. */
const OUTBOX_KEY = 'shopper-outbox';

/** A `keepalive` request's body must stay under 64 KiB in all; the rest waits for the next sync. */
const KEEPALIVE_BYTES = 60_000;

/** Events of one page kept for a push before it leaves; beyond this, the next sync sends them. */
const UNSYNCED_LIMIT = 200;

/**
 * Events recorded this long before the newest one pushed are offered again (the server skips the
 * ids it has), so that one tracked late, with an earlier time, is not left behind.
 */
const PUSH_OVERLAP_MS = 10 * 60_000;

/** What this device has exchanged with the server for the signed-in shopper, as stored. */
interface ShopperSyncState {
  userId: string;
  /** The server log version read up to. */
  version: number;
  /** The newest time among the events pushed. */
  pushedUntil: number;
  /** Id and time of the events pushed within {@link PUSH_OVERLAP_MS} of `pushedUntil`: not offered again. */
  recent: Array<[id: string, time: number]>;
}

/** Work for the server kept across page loads until it is done. */
interface ShopperOutbox {
  /** Shoppers whose synced log the server must delete: `forget()` ran while it could not be reached. */
  forget: string[];
  /** Events removed on this device that the server must remove from the shopper's log too. */
  remove?: Array<{ userId: string; ids: string[] }>;
}

/** What one exchange did. */
export interface ShopperSyncReport {
  /** Events this device sent that the server did not have. */
  pushed: number;
  /** Events from the shopper's other channels stored on this device. */
  pulled: number;
  /** Events deleted from this device because another channel removed them. */
  removed: number;
  /** The shopper's log version on the server after the exchange. */
  version: number;
}

export interface ShopperSyncDeps {
  client: SyncClient;
  log: EventLog;
  kv: KeyValueStore;
  /**
   * The host's source of shopper tokens (the `shopperToken` option; see `signShopperToken` on the
   * server): asked when there is none for the user yet, and again after the server refused one.
   */
  shopperToken?: ((userId: string) => string | undefined | Promise<string | undefined>) | undefined;
}

/**
 * Keeps a signed-in shopper's event log the same on every channel: sends the events this device
 * recorded for them and stores the ones the shopper's other channels (and the shop's POS) sent, so
 * that the profile, the history the model reads and the exclusions (bought, in the cart) agree
 * everywhere. Runs only when the caller has checked consent (`synced`) and a user is signed in.
 */
export class ShopperSync {
  readonly #deps: ShopperSyncDeps;
  /** Shopper tokens by user id, from `identify()` or the host's source; memory only. */
  readonly #tokens = new Map<string, string>();
  /** Events accepted on this page since the last exchange. */
  #unsynced: TrackedEvent[] = [];

  constructor(deps: ShopperSyncDeps) {
    this.#deps = deps;
  }

  /** Keeps the token the host passed to `identify()` for `userId`. */
  rememberToken(userId: string, token: string): void {
    this.#tokens.set(userId, token);
  }

  /** Notes an event accepted on this page, for {@link pushBeforeLeaving}. */
  recorded(event: TrackedEvent): void {
    if (this.#unsynced.length < UNSYNCED_LIMIT) this.#unsynced.push(event);
  }

  /**
   * Drops the page's events noted so far: another shopper signed in or out, or the device forgot
   * them. What was recorded before is never sent as the next shopper's.
   */
  clearRecorded(): void {
    this.#unsynced = [];
  }

  /**
   * Pushes the shopper's new events from `history` (their log on this device), then stores what the
   * server has from elsewhere.
   * @throws OmniPersonaError `UNAUTHORIZED` when there is no token or the server refuses it twice;
   * `NETWORK` or `SERVER` when the exchange fails (nothing is lost: the next sync resends).
   */
  async sync(userId: string, history: readonly TrackedEvent[]): Promise<ShopperSyncReport> {
    const stored = await this.#deps.kv.get<ShopperSyncState>(STATE_KEY);
    const state: ShopperSyncState =
      stored?.userId === userId ? stored : { userId, version: 0, pushedUntil: 0, recent: [] };
    const report: ShopperSyncReport = { pushed: 0, pulled: 0, removed: 0, version: state.version };

    const noted = this.#unsynced.length;
    const recent = new Set(state.recent.map(([id]) => id));
    const outgoing = history.filter(
      (event) =>
        event.anonymousId !== SYNCED_ANONYMOUS_ID &&
        event.time >= state.pushedUntil - PUSH_OVERLAP_MS &&
        !recent.has(event.id),
    );
    for (let start = 0; start < outgoing.length; start += SHOPPER_EVENTS_PER_REQUEST) {
      const chunk = outgoing.slice(start, start + SHOPPER_EVENTS_PER_REQUEST);
      const receipt = await this.#authorized(userId, (token) =>
        this.#deps.client.pushShopperEvents(token, chunk.map(toSyncedEvent)),
      );
      report.pushed += receipt.added;
      advance(state, chunk);
      // Saved per chunk: a failure later resends only what did not get through.
      await this.#deps.kv.set(STATE_KEY, state);
    }

    for (;;) {
      const page = await this.#authorized(userId, (token) => this.#deps.client.shopperEvents(token, state.version));
      if (page.events.length > 0) {
        const events = page.events.map((event) => fromSyncedEvent(event, userId));
        report.pulled += (await this.#deps.log.append(events)).written;
      }
      if (page.removed && page.removed.length > 0) report.removed += await this.#deps.log.remove(page.removed);
      state.version = page.version;
      await this.#deps.kv.set(STATE_KEY, state);
      if (!page.more) break;
    }
    report.version = state.version;
    // What the page noted before the exchange has gone with it.
    this.#unsynced = this.#unsynced.slice(noted);
    return report;
  }

  /** Deletes the shopper's synced log on the server. */
  async forget(userId: string): Promise<void> {
    await this.#authorized(userId, (token) => this.#deps.client.forgetShopper(token));
  }

  /**
   * Removes events from the shopper's log on the server, and so from their other channels at their
   * next sync.
   */
  async remove(userId: string, ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += SHOPPER_EVENTS_PER_REQUEST) {
      const chunk = ids.slice(start, start + SHOPPER_EVENTS_PER_REQUEST);
      await this.#authorized(userId, (token) => this.#deps.client.removeShopperEvents(token, chunk));
    }
  }

  /** Keeps a removal the server could not take now, for {@link drainOutbox} at the next sync. */
  async queueRemove(userId: string, ids: readonly string[]): Promise<void> {
    const outbox = (await this.#deps.kv.get<ShopperOutbox>(OUTBOX_KEY)) ?? { forget: [] };
    outbox.remove = [...(outbox.remove ?? []), { userId, ids: [...ids] }];
    await this.#deps.kv.set(OUTBOX_KEY, outbox);
  }

  /** Keeps a deletion the server could not take now, for {@link drainOutbox} at the next sync. */
  async queueForget(userId: string): Promise<void> {
    const outbox = (await this.#deps.kv.get<ShopperOutbox>(OUTBOX_KEY)) ?? { forget: [] };
    if (!outbox.forget.includes(userId)) outbox.forget.push(userId);
    await this.#deps.kv.set(OUTBOX_KEY, outbox);
  }

  /**
   * Sends the deletions kept in the outbox. One that fails stays for the next time and is passed to
   * `report`; the others leave the outbox.
   */
  async drainOutbox(report: (error: unknown) => void): Promise<void> {
    const outbox = await this.#deps.kv.get<ShopperOutbox>(OUTBOX_KEY);
    if (!outbox || (outbox.forget.length === 0 && !outbox.remove?.length)) return;
    const left: ShopperOutbox = { forget: [], remove: [] };
    for (const userId of outbox.forget) {
      try {
        await this.forget(userId);
      } catch (error) {
        left.forget.push(userId);
        report(error);
      }
    }
    for (const removal of outbox.remove ?? []) {
      // A shopper forgotten since has no log left to remove from.
      if (outbox.forget.includes(removal.userId)) continue;
      try {
        await this.remove(removal.userId, removal.ids);
      } catch (error) {
        left.remove?.push(removal);
        report(error);
      }
    }
    if (left.forget.length === 0 && left.remove?.length === 0) await this.#deps.kv.delete(OUTBOX_KEY);
    else await this.#deps.kv.set(OUTBOX_KEY, left);
  }

  /**
   * For a page that is going away: sends the events it noted for `userId` at once with `keepalive`,
   * as many of the newest as fit in a keepalive body, with a token already in memory (there is no
   * time to ask the host for one). Starts the request synchronously; the next sync sends them again
   * (the server skips what it has), so a failure loses nothing.
   */
  pushBeforeLeaving(userId: string): void {
    const token = this.#tokens.get(userId);
    if (token === undefined) return;
    // Only events already stamped with the shopper's session (a flush stamps what it writes).
    const stamped = this.#unsynced.filter((event) => event.sessionId !== undefined && event.anonymousId !== undefined);
    const synced: SyncedEvent[] = [];
    let bytes = '{"events":[]}'.length;
    for (let i = stamped.length - 1; i >= 0; i--) {
      const event = toSyncedEvent(stamped[i] as TrackedEvent);
      bytes += JSON.stringify(event).length + 1;
      if (bytes > KEEPALIVE_BYTES) break;
      synced.unshift(event);
    }
    if (synced.length === 0) return;
    this.#deps.client.pushShopperEvents(token, synced, true).catch(() => {
      // Sent again by the next sync.
    });
  }

  /** The token for `userId`: the one in memory, or the host's, fresh when `fresh`. */
  async #token(userId: string, fresh: boolean): Promise<string | undefined> {
    const known = this.#tokens.get(userId);
    if (known !== undefined && !fresh) return known;
    const supplied = await this.#deps.shopperToken?.(userId);
    if (typeof supplied === 'string' && supplied !== '') this.#tokens.set(userId, supplied);
    else this.#tokens.delete(userId);
    return this.#tokens.get(userId);
  }

  /** Runs `call` with the shopper's token, and once more with a fresh one when the server refuses it. */
  async #authorized<T>(userId: string, call: (token: string) => Promise<T>): Promise<T> {
    for (const fresh of [false, true]) {
      const token = await this.#token(userId, fresh);
      if (token === undefined) break;
      try {
        return await call(token);
      } catch (error) {
        if (!(error instanceof OmniPersonaError && error.code === 'UNAUTHORIZED') || fresh) throw error;
      }
    }
    throw new OmniPersonaError(
      'UNAUTHORIZED',
      `No shopper token for the signed-in user: pass one to identify(userId, { token }) or set the shopperToken option`,
    );
  }
}

/** Moves the push watermark past `events`. */
function advance(state: ShopperSyncState, events: readonly TrackedEvent[]): void {
  for (const event of events) state.pushedUntil = Math.max(state.pushedUntil, event.time);
  const since = state.pushedUntil - PUSH_OVERLAP_MS;
  const pushed = [...state.recent, ...events.map((event): [string, number] => [event.id, event.time])];
  state.recent = pushed.filter(([, time]) => time >= since);
}

/** What leaves the device: the event without its page context and device identity. */
function toSyncedEvent(event: TrackedEvent): SyncedEvent {
  const { anonymousId: _device, userId: _user, context: _page, ...synced } = event;
  return synced as SyncedEvent;
}

/** A pulled event as this device stores it: the shopper's, from no anonymous id of this device. */
function fromSyncedEvent(event: SyncedEvent, userId: string): TrackedEvent {
  return { ...event, anonymousId: SYNCED_ANONYMOUS_ID, userId } as TrackedEvent;
}
