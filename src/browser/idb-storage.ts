import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import type { AppendResult, EventLog, KeyValueStore } from '../core/adapters.js';
import { OmniPersonaError } from '../core/errors.js';
import type { TrackedEvent } from '../core/event.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../core/memory-storage.js';
import { withTimeout } from '../core/with-timeout.js';
import { BATCH_MIN_EVENTS, IdbEventLog } from './idb-event-log.js';
import { IdbKeyValueStore } from './idb-key-value-store.js';
import { DEVICE_DB_VERSION, type DeviceDatabase, deviceDatabaseName, upgradeDeviceDatabase } from './idb-schema.js';
import { scheduleIdle } from './idle.js';
import { isQuotaError, isStorageFailure } from './storage-errors.js';

const OPEN_TIMEOUT_MS = 3000;
const DELETE_TIMEOUT_MS = 3000;
/**
 * Evict-and-retry rounds on a full quota: the oldest 10 %, then 20 % more. Chromium counts usage by
 * file size, which a deletion does not shrink at once (measured): when two rounds did not make room,
 * more deleting would only lose history, so memory takes the batch (with what was evicted).
 */
const QUOTA_ROUNDS = 2;
/** Batched bursts move into the indexed store once no burst has arrived for this long. */
const COMPACT_AFTER_MS = 1000;

interface Backend {
  kind: 'indexeddb' | 'memory';
  log: EventLog;
  kv: KeyValueStore;
  db?: IDBPDatabase<DeviceDatabase>;
}

/** What the device storage tells its owner. */
export interface DeviceStorageEvents {
  /** IndexedDB is unusable (missing, blocked, or failing after it opened): memory takes over for the page's lifetime. */
  onFallback(error: unknown): void;
}

/**
 * Opens a site's device database, migrating it to this build's schema. Rejects when IndexedDB is
 * missing, blocked or too slow. `onLost` is called when the connection goes away under the SDK:
 * another tab deletes or upgrades the database (the connection is closed so as not to block it),
 * or the browser closes it (site data cleared).
 */
export async function openDeviceDatabase(site: string, onLost: () => void): Promise<IDBPDatabase<DeviceDatabase>> {
  if (typeof indexedDB === 'undefined' || indexedDB === null) {
    throw new OmniPersonaError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context');
  }
  const opening = openDB<DeviceDatabase>(deviceDatabaseName(site), DEVICE_DB_VERSION, {
    upgrade: (db, oldVersion, _newVersion, transaction) => upgradeDeviceDatabase(db, oldVersion, transaction),
    blocking: (_current, _blocked, event) => {
      (event.target as IDBDatabase).close();
      onLost();
    },
    terminated: onLost,
  });
  try {
    return await withTimeout(
      opening,
      OPEN_TIMEOUT_MS,
      () => new OmniPersonaError('STORAGE_UNAVAILABLE', `IndexedDB did not open within ${OPEN_TIMEOUT_MS} ms`),
    );
  } catch (error) {
    // An open that completes after the timeout must not hold a connection nobody uses.
    void opening.then((db) => db.close()).catch(() => undefined);
    throw error;
  }
}

/**
 * The device's storage: IndexedDB through `idb`, opened on first use, with the memory fallback the
 * SDK promises. `kind` says which one is in use.
 *
 * - A connection lost after opening (the database deleted or closed) is reopened on the next use.
 * - A write that fails on IndexedDB is retried once on a fresh connection, then on memory, which
 *   takes over for the rest of the page with what IndexedDB still held: no queued event is lost.
 * - A full quota evicts the oldest events and retries the write, then falls back to memory.
 */
export class DeviceStorage {
  readonly log: EventLog;
  readonly kv: KeyValueStore;
  readonly #site: string;
  readonly #events: DeviceStorageEvents;
  #opening?: Promise<Backend>;
  #open?: Backend;
  #memory?: Backend;
  #erasing?: Promise<void>;
  /** Events evicted to make space for a write that still failed: carried into memory on fallback. */
  #evictedForSpace: TrackedEvent[] = [];
  #compacting = false;
  #compactTimer?: ReturnType<typeof setTimeout>;

  constructor(site: string, events: DeviceStorageEvents) {
    this.#site = site;
    this.#events = events;
    const storage = this;
    this.log = {
      get kind() {
        return storage.#memory ? 'memory' : 'indexeddb';
      },
      append: (events, records) => this.#append(events, records),
      list: (query) => this.#run((backend) => backend.log.list(query)),
      count: () => this.#run((backend) => backend.log.count()),
      remove: (ids) => this.#run((backend) => backend.log.remove(ids)),
      evict: (policy) => this.#run((backend) => backend.log.evict(policy)),
      clear: () => this.#run((backend) => backend.log.clear()),
    };
    this.kv = {
      get: <T>(key: string) => this.#run((backend) => backend.kv.get<T>(key)),
      set: (key, value) => this.#run((backend) => backend.kv.set(key, value)),
      delete: (key) => this.#run((backend) => backend.kv.delete(key)),
      clear: () => this.#run((backend) => backend.kv.clear()),
    };
  }

  /**
   * Deletes the device database (after the caller cleared it). Other tabs of the shop close their
   * connections when asked; if one does not, the deletion finishes when it closes, and the cleared
   * stores hold nothing meanwhile. The next use opens a fresh database.
   */
  erase(): Promise<void> {
    this.#erasing ??= this.#erase().finally(() => {
      this.#erasing = undefined;
    });
    return this.#erasing;
  }

  async #erase(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    this.#opening = undefined;
    open?.db?.close();
    await this.#memory?.log.clear();
    await this.#memory?.kv.clear();
    if (typeof indexedDB === 'undefined' || indexedDB === null) return;
    // A deletion blocked by another tab's connection completes when that tab lets go; do not wait for it.
    await withTimeout(
      deleteDB(deviceDatabaseName(this.#site)),
      DELETE_TIMEOUT_MS,
      () => new Error('delete pending'),
    ).catch(() => undefined);
  }

  async #append(events: readonly TrackedEvent[], records?: Readonly<Record<string, unknown>>): Promise<AppendResult> {
    return this.#run(async (backend) => {
      const evicted: TrackedEvent[] = [];
      for (let round = 0; ; round++) {
        try {
          const result = await backend.log.append(events, records);
          this.#evictedForSpace = [];
          if (events.length >= BATCH_MIN_EVENTS) this.#compactWhenIdle();
          return result;
        } catch (error) {
          if (!isQuotaError(error) || backend.kind === 'memory') throw error;
          const removed = await this.#makeSpace(backend.log, round);
          if (!removed) {
            // Memory takes over; what was evicted in vain goes with it, so the page loses nothing.
            this.#evictedForSpace = evicted;
            throw new OmniPersonaError(
              'STORAGE_QUOTA',
              `IndexedDB is full: ${events.length} events did not fit after evicting the ${evicted.length} oldest`,
              { cause: error },
            );
          }
          evicted.push(...removed);
        }
      }
    });
  }

  /** Evicts the oldest events to make space, and returns them; undefined when there is nothing left to try. */
  async #makeSpace(log: EventLog, round: number): Promise<TrackedEvent[] | undefined> {
    if (round >= QUOTA_ROUNDS) return undefined;
    try {
      const stored = await log.list();
      if (stored.length === 0) return undefined;
      const oldest = stored.slice(0, Math.max(1, Math.ceil(stored.length * 0.1 * 2 ** round)));
      await log.evict({ before: Number.NEGATIVE_INFINITY, keep: stored.length - oldest.length });
      return oldest;
    } catch {
      // Even deleting needs space in some engines: nothing more can be done here.
      return undefined;
    }
  }

  /**
   * Runs an operation on the backend in use. When IndexedDB fails, it is retried once on a fresh
   * connection (the old one may have been closed or deleted under the SDK), then on memory.
   */
  async #run<T>(operation: (backend: Backend) => Promise<T>): Promise<T> {
    let backend = await this.#current();
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(backend);
      } catch (error) {
        if (backend.kind === 'memory') throw error;
        if (isQuotaError(error) && !(error instanceof OmniPersonaError)) {
          // Only a batch of events is worth evicting for (see #append); other writes report it.
          throw new OmniPersonaError('STORAGE_QUOTA', 'IndexedDB is full', { cause: error });
        }
        if (isQuotaError(error) || (isStorageFailure(error) && attempt > 0)) {
          backend = await this.#fallBack(error, backend);
        } else if (isStorageFailure(error)) {
          this.#drop(backend);
          backend = await this.#current();
        } else {
          throw error;
        }
      }
    }
  }

  #current(): Promise<Backend> {
    if (this.#memory) return Promise.resolve(this.#memory);
    if (this.#open) return Promise.resolve(this.#open);
    this.#opening ??= this.#connect();
    return this.#opening;
  }

  async #connect(): Promise<Backend> {
    await this.#erasing;
    try {
      let backend: Backend | undefined;
      const db = await openDeviceDatabase(this.#site, () => {
        if (backend) this.#drop(backend);
      });
      const log = new IdbEventLog(db);
      backend = { kind: 'indexeddb', db, log, kv: new IdbKeyValueStore(db) };
      this.#open = backend;
      // A burst an earlier page wrote may still wait to be moved into the indexed store.
      log.hasBatches().then(
        (has) => has && this.#compact(),
        () => undefined,
      );
      return backend;
    } catch (error) {
      return this.#fallBack(error);
    } finally {
      this.#opening = undefined;
    }
  }

  /**
   * Moves batched bursts into the indexed event store, one slice per idle moment, until none is
   * left. A failure stops it: batches stay readable as they are, and the next burst or page retries.
   */
  #compactWhenIdle(): void {
    // Not while a burst is still arriving: each new batch postpones the start.
    clearTimeout(this.#compactTimer);
    this.#compactTimer = setTimeout(() => this.#compact(), COMPACT_AFTER_MS);
  }

  #compact(): void {
    if (this.#compacting) return;
    this.#compacting = true;
    const step = () => {
      const log = this.#open?.log;
      if (!(log instanceof IdbEventLog)) {
        this.#compacting = false;
        return;
      }
      log.compact().then(
        (more) => {
          if (more) scheduleIdle(step);
          else this.#compacting = false;
        },
        () => {
          this.#compacting = false;
        },
      );
    };
    scheduleIdle(step);
  }

  /** Forgets a connection that failed or was lost, so the next use opens a new one. */
  #drop(backend: Backend): void {
    if (this.#open !== backend) return;
    this.#open = undefined;
    try {
      backend.db?.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Switches to memory for the rest of the page, carrying over what the failing database can
   * still be read for (after a full quota, all of it), so history and identity survive.
   */
  async #fallBack(error: unknown, from?: Backend): Promise<Backend> {
    if (this.#memory) return this.#memory;
    const kv = new MemoryKeyValueStore();
    const log = new MemoryEventLog(kv);
    if (from?.log instanceof IdbEventLog && from.kv instanceof IdbKeyValueStore) {
      const [events, entries] = await withTimeout(
        Promise.all([from.log.all(), from.kv.entries()]),
        1000,
        () => new Error('timed out after 1000 ms'),
      ).catch(() => [[], []] as [TrackedEvent[], Array<[string, unknown]>]);
      await log.append([...this.#evictedForSpace, ...events]);
      for (const [key, value] of entries) await kv.set(key, value);
    }
    this.#evictedForSpace = [];
    if (this.#memory) return this.#memory;
    if (from) this.#drop(from);
    this.#memory = { kind: 'memory', log, kv };
    this.#events.onFallback(error);
    return this.#memory;
  }
}
