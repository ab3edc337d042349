import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { TrackedEvent } from '../core/event.js';

/** The device database of one site: the event log and small named records (identity, model). */
export interface DeviceDatabase extends DBSchema {
  events: {
    key: string;
    value: TrackedEvent;
    indexes: { time: number; anonymousId: string; userId: string };
  };
  /**
   * Bursts of events written as one record each (one IndexedDB request instead of one per event),
   * moved into `events` a slice at a time when the page is idle. The key orders them and says how
   * many events the record holds, so counting does not read them: `[first event's time, count, id]`.
   */
  batches: { key: BatchKey; value: TrackedEvent[] };
  kv: { key: string; value: unknown };
}

export type BatchKey = [time: number, count: number, id: string];

/** The schema version this build writes. Each bump adds one step to {@link MIGRATIONS}. */
export const DEVICE_DB_VERSION = 3;

export function deviceDatabaseName(site: string): string {
  return `omnipersona:${site}`;
}

type UpgradeTransaction = IDBPTransaction<DeviceDatabase, StoreNames<DeviceDatabase>[], 'versionchange'>;
type Migration = (db: IDBPDatabase<DeviceDatabase>, transaction: UpgradeTransaction) => void;

/**
 * `MIGRATIONS[n]` takes a database from version n to n + 1, inside the upgrade transaction, so a
 * database several versions behind runs every step in order and a failed step leaves it as it
 * was. A released step never changes; a new schema adds a step.
 */
const MIGRATIONS: readonly Migration[] = [
  // 0 → 1: the event log keyed by event id, read in time order; and the key-value store.
  (db) => {
    db.createObjectStore('events', { keyPath: 'id' }).createIndex('time', 'time');
    db.createObjectStore('kv');
  },
  // 1 → 2: one shopper's history without reading everyone's: by anonymous id, and by user id for
  // events recorded while signed in (the index holds only those). IndexedDB indexes existing events.
  (_db, transaction) => {
    const events = transaction.objectStore('events');
    events.createIndex('anonymousId', 'anonymousId');
    events.createIndex('userId', 'userId');
  },
  // 2 → 3: bursts written as one record each (see DeviceDatabase.batches).
  (db) => {
    db.createObjectStore('batches');
  },
];

/** Runs every migration from `oldVersion` up to this build's version. */
export function upgradeDeviceDatabase(
  db: IDBPDatabase<DeviceDatabase>,
  oldVersion: number,
  transaction: UpgradeTransaction,
): void {
  for (let version = oldVersion; version < DEVICE_DB_VERSION; version++) {
    const migrate = MIGRATIONS[version];
    if (!migrate) throw new Error(`No migration from device database version ${version}`);
    migrate(db, transaction);
  }
}
