import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { EventLog, KeyValueStore } from '../core/adapters.js';
import { OmniPersonaError } from '../core/errors.js';
import type { TrackedEvent } from '../core/event.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../core/memory-storage.js';

interface OmniPersonaDB extends DBSchema {
  events: { key: string; value: TrackedEvent; indexes: { time: number } };
  kv: { key: string; value: unknown };
}

/** Schema version of the device database; each bump adds a step to {@link upgrade}. */
const DB_VERSION = 1;
const OPEN_TIMEOUT_MS = 3000;

function upgrade(db: IDBPDatabase<OmniPersonaDB>, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('events', { keyPath: 'id' }).createIndex('time', 'time');
    db.createObjectStore('kv');
  }
}

/** Opens the device database for a site. Rejects when IndexedDB is missing, blocked or too slow. */
export async function openDeviceDatabase(site: string): Promise<IDBPDatabase<OmniPersonaDB>> {
  if (typeof indexedDB === 'undefined') {
    throw new OmniPersonaError('STORAGE_UNAVAILABLE', 'IndexedDB is not available in this context');
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OmniPersonaError('STORAGE_UNAVAILABLE', `IndexedDB did not open within ${OPEN_TIMEOUT_MS} ms`)),
      OPEN_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      openDB<OmniPersonaDB>(`omnipersona:${site}`, DB_VERSION, {
        upgrade: (db, oldVersion) => upgrade(db, oldVersion),
        blocked: () => undefined,
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * IndexedDB storage that falls back to memory when the database cannot be opened, so tracking and
 * recommendations keep working for the page's lifetime. `kind` says which one is in use.
 */
export class DeviceStorage {
  readonly log: EventLog;
  readonly kv: KeyValueStore;
  #kind = 'indexeddb';
  readonly #ready: Promise<{ log: EventLog; kv: KeyValueStore }>;

  constructor(site: string, onFallback: (error: unknown) => void) {
    this.#ready = openDeviceDatabase(site).then(
      (db) => ({ log: new IdbEventLog(db), kv: new IdbKeyValueStore(db) }),
      (error: unknown) => {
        this.#kind = 'memory';
        onFallback(error);
        return { log: new MemoryEventLog(), kv: new MemoryKeyValueStore() };
      },
    );
    const storage = this;
    this.log = {
      get kind() {
        return storage.#kind;
      },
      append: async (events) => (await this.#ready).log.append(events),
      list: async () => (await this.#ready).log.list(),
      count: async () => (await this.#ready).log.count(),
      clear: async () => (await this.#ready).log.clear(),
    };
    this.kv = {
      get: async <T>(key: string) => (await this.#ready).kv.get<T>(key),
      set: async (key, value) => (await this.#ready).kv.set(key, value),
      delete: async (key) => (await this.#ready).kv.delete(key),
      clear: async () => (await this.#ready).kv.clear(),
    };
  }
}

class IdbEventLog implements EventLog {
  readonly kind = 'indexeddb';
  readonly #db: IDBPDatabase<OmniPersonaDB>;

  constructor(db: IDBPDatabase<OmniPersonaDB>) {
    this.#db = db;
  }

  async append(events: readonly TrackedEvent[]): Promise<void> {
    const tx = this.#db.transaction('events', 'readwrite');
    await Promise.all([...events.map((event) => tx.store.put(event)), tx.done]);
  }

  list(): Promise<TrackedEvent[]> {
    return this.#db.getAllFromIndex('events', 'time');
  }

  count(): Promise<number> {
    return this.#db.count('events');
  }

  clear(): Promise<void> {
    return this.#db.clear('events');
  }
}

class IdbKeyValueStore implements KeyValueStore {
  readonly #db: IDBPDatabase<OmniPersonaDB>;

  constructor(db: IDBPDatabase<OmniPersonaDB>) {
    this.#db = db;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.#db.get('kv', key)) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.#db.put('kv', value, key);
  }

  delete(key: string): Promise<void> {
    return this.#db.delete('kv', key);
  }

  clear(): Promise<void> {
    return this.#db.clear('kv');
  }
}
