import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import {
  SHOPPER_EVENTS_PER_REQUEST,
  type ShopperEventsPage,
  type ShopperEventsReceipt,
  type ShopperRemovalsReceipt,
  type SyncedEvent,
  SyncedEventSchema,
} from '../core/sync/protocol.js';
import { formatIssues } from './format-issues.js';
import type { SyncStore } from './store/sync-store.js';

/**
 * A signed-in shopper's synced event log: what makes every channel show them the same profile and
 * recommendations. Devices add what they record and read what the others added; channels without
 * the SDK (a POS, a call centre) add theirs through the shop's backend. Events are merged by id, so
 * writes from several channels at once all survive, and retries add nothing twice.
 */
export class ShopperLog {
  readonly #store: SyncStore;
  readonly #keep: number;

  constructor(store: SyncStore, keep: number) {
    this.#store = store;
    this.#keep = keep;
  }

  /**
   * Validates and adds events for `userId`.
   * @throws OmniPersonaError `INVALID_PAYLOAD` naming the first invalid event; nothing is stored then.
   */
  add(userId: string, events: readonly unknown[]): Promise<ShopperEventsReceipt> {
    return this.#store.appendShopperEvents(userId, events.map(parseSyncedEvent), this.#keep);
  }

  /**
   * Adds events from a channel without the SDK. `channel` applies to events that name none, and an
   * event without a session belongs to that channel's visit of its day, so a day's till receipts are
   * one session in the profile.
   */
  addFromChannel(userId: string, events: readonly unknown[], channel: string): Promise<ShopperEventsReceipt> {
    const filled = events.map((event) => {
      if (typeof event !== 'object' || event === null) return event;
      const record = event as Record<string, unknown>;
      const named = typeof record.channel === 'string' ? record.channel : channel;
      const day = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(0, 10) : 'undated';
      return { channel: named, sessionId: `${named}-${day}`, ...record };
    });
    return this.add(userId, filled);
  }

  /** The events stored after version `after`, a page at a time. */
  read(userId: string, after: number): Promise<ShopperEventsPage> {
    return this.#store.shopperEvents(userId, after, SHOPPER_EVENTS_PER_REQUEST);
  }

  /**
   * Removes events from the shopper's log on every channel: devices delete them at their next
   * sync, and a channel that sends one again adds nothing.
   */
  remove(userId: string, ids: readonly string[]): Promise<ShopperRemovalsReceipt> {
    return this.#store.removeShopperEvents(userId, ids);
  }

  /** Deletes the shopper's log; false when there was none. */
  forget(userId: string): Promise<boolean> {
    return this.#store.forgetShopper(userId);
  }
}

function parseSyncedEvent(event: unknown, index: number): SyncedEvent {
  const result = v.safeParse(SyncedEventSchema, event);
  if (result.success) return result.output;
  throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid event at events.${index}: ${formatIssues(result.issues)}`);
}
