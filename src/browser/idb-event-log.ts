import { type IDBPDatabase, unwrap } from 'idb';
import type { AppendResult, EventLog, EventQuery, EvictionPolicy } from '../core/adapters.js';
import type { TrackedEvent } from '../core/event.js';
import type { BatchKey, DeviceDatabase } from './idb-schema.js';
import { randomId } from './random-id.js';
import { isQuotaError } from './storage-errors.js';

/**
 * Appends of at least this many events are written as one `batches` record. In Chromium each
 * IndexedDB request costs tens of microseconds of main thread and a round trip to the browser
 * process: 20,000 events took ~2.9 s as one request each and ~80 ms as records of 500 (measured
 * here), so a burst goes in whole and moves into the indexed `events` store in slices, when idle.
 */
export const BATCH_MIN_EVENTS = 64;
/** Events moved from `batches` into `events` per transaction: a few milliseconds of main thread. */
const COMPACT_SLICE = 100;

/**
 * The event log in the device database: the `events` store (one record per event, indexed by time,
 * anonymous id and user id) and the `batches` store (bursts, one record each, until compacted).
 * Reads see both.
 */
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
    // A burst's duplicate ids are dropped when it is compacted (the recorder already drops this
    // tab's repeats, so these are rare: another tab playing the same kept calls).
    if (events.length >= BATCH_MIN_EVENTS) {
      await this.#write(events, records, 'batch');
      return { written: events.length, duplicates: 0 };
    }
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
    const everyone = anonymousIds.length === 0 && userId === undefined;
    // One transaction over both stores, so that a compaction in another tab is seen whole or not at all.
    const tx = this.#db.transaction(['events', 'batches']);
    const events = tx.objectStore('events');
    const [groups, batches] = await Promise.all([
      everyone
        ? Promise.all([events.index('time').getAll(since === undefined ? null : IDBKeyRange.lowerBound(since))])
        : Promise.all([
            ...anonymousIds.map((id) => events.index('anonymousId').getAll(id)),
            ...(userId === undefined ? [] : [events.index('userId').getAll(userId)]),
          ]),
      tx.objectStore('batches').getAll(),
      tx.done,
    ]);
    const anonymous = new Set(anonymousIds);
    const matches = (event: TrackedEvent) =>
      (since === undefined || event.time >= since) &&
      (everyone || anonymous.has(event.anonymousId) || (userId !== undefined && event.userId === userId));
    if (everyone && batches.length === 0) return groups[0] ?? [];
    const byId = new Map<string, TrackedEvent>();
    for (const event of groups.flat()) if (matches(event)) byId.set(event.id, event);
    // The stored event wins over a batched one with the same id, as a compaction would decide.
    for (const event of batches.flat()) if (!byId.has(event.id) && matches(event)) byId.set(event.id, event);
    return [...byId.values()].sort(byTimeThenId);
  }

  /** Events stored, batched ones included (counted from the batches' keys, without reading them). */
  async count(): Promise<number> {
    const tx = this.#db.transaction(['events', 'batches']);
    const [stored, keys] = await Promise.all([
      tx.objectStore('events').count(),
      tx.objectStore('batches').getAllKeys(),
      tx.done,
    ]);
    return stored + keys.reduce((sum, key) => sum + key[1], 0);
  }

  /** Whether bursts wait to be moved into the indexed store. */
  async hasBatches(): Promise<boolean> {
    return (await this.#db.count('batches')) > 0;
  }

  /**
   * Moves up to {@link COMPACT_SLICE} events of the oldest batch into the `events` store, in one
   * transaction; an event whose id is already stored is skipped. Resolves with whether batches remain.
   */
  compact(): Promise<boolean> {
    const db = unwrap(this.#db);
    return new Promise<boolean>((resolve, reject) => {
      const tx = db.transaction(['events', 'batches'], 'readwrite');
      const batches = tx.objectStore('batches');
      let remaining = false;
      tx.oncomplete = () => resolve(remaining);
      tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
      const cursorRequest = batches.openCursor();
      cursorRequest.onsuccess = () => {
        const cursor = cursorRequest.result;
        if (!cursor) return;
        const key = cursor.key as BatchKey;
        const batch = cursor.value as TrackedEvent[];
        const moving = batch.slice(0, COMPACT_SLICE);
        const events = tx.objectStore('events');
        for (const event of moving) {
          // A duplicate id fails its own request only; the rest of the slice goes in.
          events.add(event).onerror = (failure) => {
            failure.preventDefault();
            failure.stopPropagation();
          };
        }
        cursor.delete();
        const rest = batch.slice(COMPACT_SLICE);
        if (rest.length > 0) batches.add(rest, batchKey(rest, key[2]));
        remaining = true;
        // Whether anything is left after this one: the next batch, or this one's rest.
        if (rest.length === 0) {
          const next = batches.count();
          next.onsuccess = () => {
            remaining = next.result > 0;
          };
        }
      };
    });
  }

  /** Deletes the events with these ids, stored or still batched, in one transaction. */
  async remove(ids: readonly string[]): Promise<number> {
    const wanted = new Set(ids);
    if (wanted.size === 0) return 0;
    const tx = this.#db.transaction(['events', 'batches'], 'readwrite');
    const events = tx.objectStore('events');
    const batches = tx.objectStore('batches');
    const removed = new Set<string>();
    const work: Promise<unknown>[] = [];
    for (const id of wanted) {
      const key = await events.getKey(id);
      if (key === undefined) continue;
      removed.add(id);
      work.push(events.delete(key));
    }
    for (let cursor = await batches.openCursor(); cursor; cursor = await cursor.continue()) {
      const batch = cursor.value;
      const rest = batch.filter((event) => !wanted.has(event.id));
      if (rest.length === batch.length) continue;
      for (const event of batch) if (wanted.has(event.id)) removed.add(event.id);
      work.push(cursor.delete());
      if (rest.length > 0) work.push(batches.add(rest, batchKey(rest, cursor.key[2])));
    }
    await Promise.all([...work, tx.done]);
    return removed.size;
  }

  /** Deletes expired events, then the oldest beyond `keep`, walking the time index in one transaction. */
  async evict(policy: EvictionPolicy): Promise<number> {
    const tx = this.#db.transaction(['events', 'batches'], 'readwrite');
    const events = tx.objectStore('events');
    const batches = tx.objectStore('batches');
    const index = events.index('time');
    const deletions: Promise<void>[] = [];
    let removed = 0;
    if (Number.isFinite(policy.before)) {
      let cursor = await index.openKeyCursor(IDBKeyRange.upperBound(policy.before, true));
      for (; cursor; removed++) {
        deletions.push(events.delete(cursor.primaryKey));
        cursor = await cursor.continue();
      }
    }
    const batchKeys = await batches.getAllKeys();
    let overflow = (await events.count()) + batchKeys.reduce((sum, key) => sum + key[1], 0) - policy.keep;
    if (overflow > 0) {
      let cursor = await index.openKeyCursor();
      for (; cursor && overflow > 0; overflow--, removed++) {
        deletions.push(events.delete(cursor.primaryKey));
        cursor = await cursor.continue();
      }
      // Still too many: whole batches go, oldest first (a burst beyond what the log keeps).
      for (const key of batchKeys) {
        if (overflow <= 0) break;
        deletions.push(batches.delete(key));
        overflow -= key[1];
        removed += key[1];
      }
    }
    await Promise.all([...deletions, tx.done]);
    return removed;
  }

  async clear(): Promise<void> {
    const tx = this.#db.transaction(['events', 'batches'], 'readwrite');
    await Promise.all([tx.objectStore('events').clear(), tx.objectStore('batches').clear(), tx.done]);
  }

  #write(
    events: readonly TrackedEvent[],
    records: Readonly<Record<string, unknown>>,
    as: 'events' | 'batch' = 'events',
  ): Promise<void> {
    const db = unwrap(this.#db);
    return new Promise<void>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = db.transaction([as === 'batch' ? 'batches' : 'events', 'kv'], 'readwrite');
      } catch (error) {
        reject(error);
        return;
      }
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
      try {
        if (as === 'batch') tx.objectStore('batches').add(events, batchKey(events, randomId()));
        else {
          const store = tx.objectStore('events');
          for (const event of events) store.add(event);
        }
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
    return this.list();
  }
}

function batchKey(events: readonly TrackedEvent[], id: string): BatchKey {
  return [events[0]?.time ?? 0, events.length, id];
}

function byTimeThenId(a: TrackedEvent, b: TrackedEvent): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
