import { type IDBPDatabase, unwrap } from 'idb';
import type { AppendResult, EventLog, EventQuery, EvictionPolicy } from '../core/adapters.js';
import type { TrackedEvent } from '../core/event.js';
import type { DeviceDatabase } from './idb-schema.js';
import { isQuotaError } from './storage-errors.js';

/** The event log in the device database's `events` store. */
export class IdbEventLog implements EventLog {
  readonly kind = 'indexeddb';
  readonly #db: IDBPDatabase<DeviceDatabase>;

  constructor(db: IDBPDatabase<DeviceDatabase>) {
    this.#db = db;
  }

  /**
   * Adds events and records in one transaction, committed explicitly as soon as the requests are
   * issued: a transaction left to auto-commit is lost when the page closes before its callbacks
   * run, a committed one is not (measured in Chromium). A duplicate id aborts a committed
   * transaction as a whole, so when the fast path fails, the ids already stored are looked up and
   * the rest written again.
   */
  async append(
    events: readonly TrackedEvent[],
    records: Readonly<Record<string, unknown>> = {},
  ): Promise<AppendResult> {
    try {
      await this.#write(events, records);
      return { written: events.length, duplicates: 0 };
    } catch (error) {
      if (isQuotaError(error)) throw error;
      const stored = await this.#storedIds(events.map((event) => event.id)).catch(() => new Set<string>());
      if (stored.size === 0) throw error;
      const fresh = events.filter((event) => !stored.has(event.id));
      await this.#write(fresh, records);
      return { written: fresh.length, duplicates: events.length - fresh.length };
    }
  }

  /** Matching events, oldest first; one shopper's through the anonymous-id and user-id indexes. */
  async list(query: EventQuery = {}): Promise<TrackedEvent[]> {
    const { anonymousIds = [], userId, since } = query;
    if (anonymousIds.length === 0 && userId === undefined) {
      return this.#db.getAllFromIndex('events', 'time', since === undefined ? null : IDBKeyRange.lowerBound(since));
    }
    const tx = this.#db.transaction('events');
    const [groups] = await Promise.all([
      Promise.all([
        ...anonymousIds.map((id) => tx.store.index('anonymousId').getAll(id)),
        ...(userId === undefined ? [] : [tx.store.index('userId').getAll(userId)]),
      ]),
      tx.done,
    ]);
    const byId = new Map<string, TrackedEvent>();
    for (const event of groups.flat()) {
      if (since === undefined || event.time >= since) byId.set(event.id, event);
    }
    return [...byId.values()].sort(byTimeThenId);
  }

  count(): Promise<number> {
    return this.#db.count('events');
  }

  /** Deletes expired events, then the oldest beyond `keep`, walking the time index in one transaction. */
  async evict(policy: EvictionPolicy): Promise<number> {
    const tx = this.#db.transaction('events', 'readwrite');
    const index = tx.store.index('time');
    const deletions: Promise<void>[] = [];
    if (Number.isFinite(policy.before)) {
      let cursor = await index.openKeyCursor(IDBKeyRange.upperBound(policy.before, true));
      while (cursor) {
        deletions.push(tx.store.delete(cursor.primaryKey));
        cursor = await cursor.continue();
      }
    }
    const overflow = (await tx.store.count()) - policy.keep;
    if (overflow > 0) {
      let cursor = await index.openKeyCursor();
      for (let i = 0; cursor && i < overflow; i++) {
        deletions.push(tx.store.delete(cursor.primaryKey));
        cursor = await cursor.continue();
      }
    }
    await Promise.all([...deletions, tx.done]);
    return deletions.length;
  }

  clear(): Promise<void> {
    return this.#db.clear('events');
  }

  #write(events: readonly TrackedEvent[], records: Readonly<Record<string, unknown>>): Promise<void> {
    const db = unwrap(this.#db);
    return new Promise<void>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = db.transaction(['events', 'kv'], 'readwrite');
      } catch (error) {
        reject(error);
        return;
      }
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
      try {
        const store = tx.objectStore('events');
        for (const event of events) store.add(event);
        const kv = tx.objectStore('kv');
        for (const [key, value] of Object.entries(records)) kv.put(value, key);
        if (typeof tx.commit === 'function') tx.commit();
      } catch (error) {
        // A request that throws (DataCloneError; QuotaExceededError in some engines) fails the write.
        reject(error);
        try {
          tx.abort();
        } catch {
          // Already finished.
        }
      }
    });
  }

  async #storedIds(ids: readonly string[]): Promise<Set<string>> {
    const tx = this.#db.transaction('events');
    const [keys] = await Promise.all([Promise.all(ids.map((id) => tx.store.getKey(id))), tx.done]);
    return new Set(keys.filter((key): key is string => key !== undefined));
  }

  /** Every event, to carry over into memory when IndexedDB fails. */
  all(): Promise<TrackedEvent[]> {
    return this.#db.getAll('events');
  }
}

function byTimeThenId(a: TrackedEvent, b: TrackedEvent): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
