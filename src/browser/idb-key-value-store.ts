import type { IDBPDatabase } from 'idb';
import type { KeyValueStore } from '../core/adapters.js';
import type { DeviceDatabase } from './idb-schema.js';

/** Named records in the device database's `kv` store. */
export class IdbKeyValueStore implements KeyValueStore {
  readonly #db: IDBPDatabase<DeviceDatabase>;

  constructor(db: IDBPDatabase<DeviceDatabase>) {
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

  /** Every record, to carry over into memory when IndexedDB fails. */
  async entries(): Promise<Array<[string, unknown]>> {
    const tx = this.#db.transaction('kv');
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done]);
    return keys.map((key, i) => [key, values[i]]);
  }
}
