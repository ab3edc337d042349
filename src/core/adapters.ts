import type { TrackedEvent } from './event.js';
import type { TrainReport } from './model/model-runtime.js';

/**
 * The interfaces the core needs from its platform. The browser module implements them over
 * IndexedDB, fetch, idle callbacks and page lifecycle events; tests and servers implement them over memory.
 */

/** Which stored events a read returns. Without any field: every event on the device. */
export interface EventQuery {
  /**
   * One shopper's history: events recorded under any of these anonymous ids, or carrying `userId`.
   * Both absent (or `anonymousIds` empty without `userId`) means every shopper on the device.
   */
  anonymousIds?: readonly string[];
  userId?: string;
  /** Only events at or after this time (epoch ms). */
  since?: number;
}

/** What one {@link EventLog.append} wrote. */
export interface AppendResult {
  /** Events newly stored. */
  written: number;
  /** Events skipped because an event with the same id was already stored (the stored one is kept). */
  duplicates: number;
}

/** What {@link EventLog.evict} removes: everything older than `before`, then the oldest beyond `keep`. */
export interface EvictionPolicy {
  /** Events with a `time` before this (epoch ms) are removed. */
  before: number;
  /** At most this many events remain; the oldest go first. */
  keep: number;
}

/** Where the device keeps its event log. */
export interface EventLog {
  /** `'indexeddb'` or `'memory'`, reported by `status()`. */
  readonly kind: string;
  /**
   * Stores events, all or none of them, together with `records` for the key-value store (the
   * identity that stamped them) in the same transaction: a page that closes mid-write keeps both or
   * neither. An event whose id is already stored is skipped and counted, so a repeated event (a
   * reloaded order confirmation) is never stored twice.
   */
  append(events: readonly TrackedEvent[], records?: Readonly<Record<string, unknown>>): Promise<AppendResult>;
  /** Stored events matching `query`, oldest first. */
  list(query?: EventQuery): Promise<TrackedEvent[]>;
  count(): Promise<number>;
  /** Deletes the events with these ids; resolves with how many of them were stored. */
  remove(ids: readonly string[]): Promise<number>;
  /** Applies the retention policy; resolves with the number of events removed. */
  evict(policy: EvictionPolicy): Promise<number>;
  clear(): Promise<void>;
}

/** Small named records: identity, model weights, sync state. Values are structured-cloneable. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
}

/** One HTTP exchange with the sync server, without any protocol knowledge. */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Survive the page closing (fetch `keepalive`). */
  keepalive?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface Transport {
  /** Rejects only when the server cannot be reached; HTTP errors resolve with their status. */
  request(request: TransportRequest): Promise<TransportResponse>;
}

/** Runs background work when the host page is idle. */
export type IdleScheduler = (task: () => void) => void;

/**
 * Calls `listener` whenever the host may be about to go away (a page hidden, navigated from or
 * closed; an app sent to the background), so queued work can be written while it still can.
 * The listener must start its writes synchronously. Returns a function that stops listening.
 */
export type HiddenObserver = (listener: () => void) => () => void;

/**
 * Runs `task` only if no other instance of the SDK on this device (another tab of the shop) is
 * running a task of the same name; resolves with undefined, without running it, when one is.
 */
export type ExclusiveRunner = <T>(name: string, task: () => Promise<T>) => Promise<T | undefined>;

/** What the SDK's instances on one device (the shop's tabs) tell each other. */
export type TabMessage = { type: 'trained'; report: TrainReport };

/** A channel between the SDK's instances on one device; a message reaches every instance but the sender. */
export interface TabChannel {
  post(message: TabMessage): void;
  /** Returns a function that stops listening. */
  listen(listener: (message: TabMessage) => void): () => void;
}
