import { eventItems, type TrackedEvent } from '../event.js';

/** How an event repeats an earlier one. */
export type DuplicateKind = 'same-id' | 'repeated-view';

/** How many event ids are remembered; older ones are left to the store's own key check. */
const REMEMBERED_IDS = 5000;

/**
 * Finds events that repeat earlier ones: the same event id (a retried call, a reloaded order
 * confirmation), or a view of an item viewed within `repeatViewMs` before it (a re-render, a reload,
 * a double-fired tag). It remembers what it accepted and what was already stored, so it works
 * across batches and, once told the stored tail, across page loads.
 */
export class Deduplicator {
  readonly #repeatViewMs: number;
  /** Ids in insertion order, for a bounded memory. */
  readonly #ids = new Set<string>();
  /** Item id → time of the last accepted view. */
  readonly #lastView = new Map<string, number>();

  constructor(repeatViewMs: number) {
    this.#repeatViewMs = repeatViewMs;
  }

  /** Learns events that are already stored, without judging them. */
  remember(events: Iterable<Pick<TrackedEvent, 'id' | 'type' | 'time'> & Partial<TrackedEvent>>): void {
    for (const event of events) this.#accept(event as TrackedEvent);
  }

  /** How `event` repeats an earlier one, or undefined when it does not (it is then remembered). */
  check(event: TrackedEvent): DuplicateKind | undefined {
    if (this.#ids.has(event.id)) return 'same-id';
    if (event.type === 'view' && this.#repeatViewMs > 0) {
      const last = this.#lastView.get(event.item.id);
      if (last !== undefined && Math.abs(event.time - last) < this.#repeatViewMs) return 'repeated-view';
    }
    this.#accept(event);
    return undefined;
  }

  clear(): void {
    this.#ids.clear();
    this.#lastView.clear();
  }

  #accept(event: TrackedEvent): void {
    this.#ids.add(event.id);
    if (this.#ids.size > REMEMBERED_IDS) this.#ids.delete(this.#ids.values().next().value as string);
    if (event.type !== 'view') return;
    const [item] = eventItems(event);
    if (!item) return;
    this.#lastView.set(item.id, Math.max(event.time, this.#lastView.get(item.id) ?? Number.NEGATIVE_INFINITY));
    if (this.#lastView.size > 1000) this.#forgetViewsBefore(event.time - this.#repeatViewMs);
  }

  #forgetViewsBefore(time: number): void {
    for (const [id, at] of this.#lastView) if (at < time) this.#lastView.delete(id);
  }
}
