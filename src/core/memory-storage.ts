import type { AppendResult, EventLog, EventQuery, EvictionPolicy, KeyValueStore } from './adapters.js';
import type { TrackedEvent } from './event.js';
import { eventsToEvict } from './personalizer/retention-policy.js';

/** An event log in memory: for servers, tests, and devices where IndexedDB is missing or blocked. */
export class MemoryEventLog implements EventLog {
  readonly kind = 'memory';
  readonly #events = new Map<string, TrackedEvent>();
  readonly #kv: KeyValueStore | undefined;

  /** @param kv where records written with events go; without it they are dropped. */
  constructor(kv?: KeyValueStore) {
    this.#kv = kv;
  }

  async append(
    events: readonly TrackedEvent[],
    records: Readonly<Record<string, unknown>> = {},
  ): Promise<AppendResult> {
    for (const [key, value] of Object.entries(records)) await this.#kv?.set(key, value);
    let duplicates = 0;
    for (const event of events) {
      if (this.#events.has(event.id)) duplicates++;
      else this.#events.set(event.id, structuredCopy(event));
    }
    return { written: events.length - duplicates, duplicates };
  }

  async list(query: EventQuery = {}): Promise<TrackedEvent[]> {
    return [...this.#events.values()]
      .filter((event) => matchesQuery(event, query))
      .sort((a, b) => a.time - b.time)
      .map(structuredCopy);
  }

  async count(): Promise<number> {
    return this.#events.size;
  }

  async remove(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of new Set(ids)) if (this.#events.delete(id)) removed++;
    return removed;
  }

  async evict(policy: EvictionPolicy): Promise<number> {
    const ids = eventsToEvict(this.#events.values(), policy);
    for (const id of ids) this.#events.delete(id);
    return ids.length;
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

/** Whether a stored event is one an {@link EventQuery} asks for. */
export function matchesQuery(event: TrackedEvent, query: EventQuery): boolean {
  if (query.since !== undefined && event.time < query.since) return false;
  const anonymousIds = query.anonymousIds ?? [];
  if (anonymousIds.length === 0 && query.userId === undefined) return true;
  return anonymousIds.includes(event.anonymousId) || (query.userId !== undefined && event.userId === query.userId);
}

/** Events are plain JSON data; copying keeps callers from mutating what is stored. */
function structuredCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
