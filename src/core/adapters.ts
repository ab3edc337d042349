import type { TrackedEvent } from './event.js';

/**
 * The interfaces the core needs from its platform. The browser module implements them over
 * IndexedDB, fetch and idle callbacks; tests and servers can implement them over memory.
 */

/** Where the device keeps its event log. */
export interface EventLog {
  /** `'indexeddb'` or `'memory'`, reported by `status()`. */
  readonly kind: string;
  append(events: readonly TrackedEvent[]): Promise<void>;
  /** Every stored event, oldest first. */
  list(): Promise<TrackedEvent[]>;
  count(): Promise<number>;
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
