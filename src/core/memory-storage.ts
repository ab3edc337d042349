import type { EventLog, KeyValueStore } from './adapters.js';
import type { TrackedEvent } from './event.js';

/** An event log in memory: for servers, tests, and devices where IndexedDB is missing or blocked. */
export class MemoryEventLog implements EventLog {
  readonly kind = 'memory';
  readonly #events = new Map<string, TrackedEvent>();

  async append(events: readonly TrackedEvent[]): Promise<void> {
    for (const event of events) this.#events.set(event.id, structuredCopy(event));
  }

  async list(): Promise<TrackedEvent[]> {
    return [...this.#events.values()].sort((a, b) => a.time - b.time).map(structuredCopy);
  }

  async count(): Promise<number> {
    return this.#events.size;
  }

  async clear(): Promise<void> {
    this.#events.clear();
  }
}

/** A key-value store in memory. */
export class MemoryKeyValueStore implements KeyValueStore {
  readonly #values = new Map<string, unknown>();

  async get<T>(key: string): Promise<T | undefined> {
    return this.#values.get(key) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    this.#values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key);
  }

  async clear(): Promise<void> {
    this.#values.clear();
  }
}

/** Events are plain JSON data; copying keeps callers from mutating what is stored. */
function structuredCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
