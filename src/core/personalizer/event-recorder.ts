import type { EventLog, KeyValueStore } from '../adapters.js';
import {
  type AutomationVerdict,
  Deduplicator,
  emptyRejectionCounts,
  FloodGuard,
  findAnomaly,
  type Rejection,
  type RejectionCounts,
  type RejectionReason,
} from '../cleaning/index.js';
import { OmniPersonaError } from '../errors.js';
import type { Channel, PageContext, TrackedEvent, TrackInput } from '../event.js';
import { parseTrackInput } from '../event.js';
import { Identity } from './identity.js';
import type { ResolvedOptions } from './options.js';
import { evictionPolicy } from './retention-policy.js';

/** Queued events are written this long after the first of them, in one transaction. */
const FLUSH_DELAY_MS = 250;
/** A failed write is retried after this long, doubling up to {@link MAX_RETRY_MS}. */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
/** Most events held in memory while storage keeps failing; the oldest are dropped beyond it. */
const MAX_QUEUED = 2000;
const DAY_MS = 86_400_000;

type QueueEntry =
  | { kind: 'event'; event: TrackedEvent }
  /** An event that already has its identity and passed deduplication: a failed write being retried. */
  | { kind: 'stamped'; event: TrackedEvent }
  | { kind: 'sign-in'; userId: string; at: number }
  | { kind: 'sign-out' };

export interface EventRecorderDeps {
  log: EventLog;
  kv: KeyValueStore;
  now: () => number;
  randomId: () => string;
  context?: () => PageContext | undefined;
  options: Pick<ResolvedOptions, 'channel' | 'cleaning' | 'retention'>;
  /** Set when the bot filter is on and judged the page automated. */
  automation?: AutomationVerdict;
  /** Whether consent allows storing anything now. */
  canStore: () => boolean;
  /** An accepted event, before it is queued (the catalog learns its items here). */
  onAccepted: (event: TrackedEvent) => void;
  /** Events just written. */
  onStored: (events: readonly TrackedEvent[]) => void;
  /** The shopper changed (sign-out, or sign-in as someone else): personal state must not carry over. */
  onShopperChanged: () => void;
  onRejected: (rejection: Rejection) => void;
  reportError: (error: unknown, context: string) => void;
}

/**
 * The on-device event log's writer: validates and cleans events, queues them in memory, and writes
 * them in batches with their identity and session. `track()` never waits on storage.
 *
 * Order is the contract: every `track()` and `identify()` call takes effect in call order, because
 * identity changes travel through the same queue as events and are applied when the batch is
 * written. The write of a batch starts synchronously once storage is ready, so a flush from a
 * `pagehide` handler reaches IndexedDB before the page goes away.
 */
export class EventRecorder {
  readonly #deps: EventRecorderDeps;
  readonly #identity: Identity;
  readonly #dedupe: Deduplicator;
  readonly #flood: FloodGuard;
  readonly #rejected: RejectionCounts = emptyRejectionCounts();
  #queue: QueueEntry[] = [];
  /** Events in writes that have not settled. */
  #writing = 0;
  #timer: unknown;
  /** The check of a first identity against one another tab may have stored: see {@link Identity.adoptStored}. */
  #adopting: Promise<void> | undefined;
  #retryMs = RETRY_MS;
  readonly #writes = new Set<Promise<void>>();
  /** Set once the stored identity is loaded and the deduplicator knows the log's recent tail. */
  #started?: Promise<void>;
  #ready = false;
  /** Batches waiting for the start; later batches queue behind them to keep call order. */
  #waiting = 0;
  #lastTime = 0;
  /**
   * Event ids are this recorder's random prefix and a counter: unique without a random UUID per
   * event, which costs more than the rest of `track()` in a burst.
   */
  readonly #idPrefix: string;
  #idCount = 0;

  constructor(deps: EventRecorderDeps) {
    this.#deps = deps;
    this.#idPrefix = deps.randomId();
    this.#identity = new Identity(deps.kv, deps.randomId);
    this.#dedupe = new Deduplicator(deps.options.cleaning.repeatViewMs);
    this.#flood = new FloodGuard(deps.options.cleaning.maxEventsPerSecond);
  }

  /** Events accepted but not yet written: waiting in the queue or in a write that has not settled. */
  /** The signed-in user, as of the last write (after {@link history} or {@link flush}). */
  get userId(): string | undefined {
    return this.#identity.userId;
  }

  get queued(): number {
    return countEvents(this.#queue) + this.#writing;
  }

  /** Rejected events by reason, since the personalizer started. */
  get rejected(): RejectionCounts {
    return { ...this.#rejected };
  }

  /**
   * Validates, cleans and queues an event. Returns it, or undefined when it is not recorded (no
   * consent, automation, an anomaly). Duplicates are found when the batch is written.
   * @throws OmniPersonaError `INVALID_EVENT` when the event is malformed.
   */
  track(input: TrackInput): TrackedEvent | undefined {
    let parsed: ReturnType<typeof parseTrackInput>;
    try {
      parsed = parseTrackInput(input);
    } catch (error) {
      this.#reject(
        'invalid',
        error instanceof Error ? error.message : String(error),
        typeof input === 'object' ? (input as { type?: string })?.type : undefined,
      );
      throw error;
    }
    if (!this.#deps.canStore()) return undefined;
    const automation = this.#deps.automation;
    if (automation?.automated) {
      this.#reject('bot', `the page is driven by automation (${automation.reasons.join(', ')})`, parsed.type);
      return undefined;
    }
    const now = this.#deps.now();
    const { cleaning, retention } = this.#deps.options;
    if (!this.#flood.admit(now)) {
      this.#reject('anomaly', `more than ${cleaning.maxEventsPerSecond} events in one second`, parsed.type);
      return undefined;
    }
    // SDK-assigned times strictly increase, so the log's time order is the call order.
    const time = parsed.time ?? this.#nextTime(now);
    const anomaly = findAnomaly({ ...parsed, time }, now, {
      maxFutureMs: cleaning.maxClockSkewMs,
      maxAgeMs: retention.maxAgeDays * DAY_MS,
      maxPrice: cleaning.maxPrice,
      maxQuantity: cleaning.maxQuantity,
    });
    if (anomaly) {
      this.#reject('anomaly', anomaly, parsed.type);
      return undefined;
    }
    const context = this.#deps.context?.();
    const event = {
      ...parsed,
      id: parsed.id ?? `${this.#idPrefix}.${(this.#idCount++).toString(36)}`,
      time,
      channel: this.#deps.options.channel as Channel,
      anonymousId: '',
      sessionId: '',
      ...(context ? { context } : {}),
    } as TrackedEvent;
    this.#deps.onAccepted(event);
    this.#enqueue({ kind: 'event', event });
    return event;
  }

  /** Queues a sign-in (`userId`) or sign-out (`undefined`) in call order, and writes it. */
  identify(userId: string | undefined): Promise<void> {
    this.#enqueue(userId === undefined ? { kind: 'sign-out' } : { kind: 'sign-in', userId, at: this.#deps.now() });
    return this.flush();
  }

  /**
   * Writes what is queued now; resolves when every write started so far has settled. A first write
   * waits for the check of {@link Identity.adoptStored} (one read), except an `urgent` one — from a
   * page being hidden, which must start its write at once.
   */
  flush(urgent = false): Promise<void> {
    const adopting = this.#adopting;
    if (adopting && !urgent) return adopting.then(() => this.flush());
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Under consent `none` nothing is written: sign-ins wait in the queue for consent.
    if (this.#queue.length > 0 && this.#deps.canStore()) {
      const batch = this.#queue;
      this.#queue = [];
      const events = countEvents(batch);
      this.#writing += events;
      const write = this.#ready && this.#waiting === 0 ? this.#write(batch) : this.#writeAfterStart(batch);
      const settled = write
        .catch((error: unknown) => this.#deps.reportError(error, 'Storing events failed'))
        .finally(() => {
          this.#writing -= events;
        });
      this.#writes.add(settled);
      void settled.finally(() => this.#writes.delete(settled));
    }
    return Promise.all([...this.#writes]).then(() => undefined);
  }

  /**
   * The current shopper's history, oldest first: the events of every anonymous id linked to the
   * signed-in user, read as the user's (see {@link Identity}).
   */
  async history(): Promise<TrackedEvent[]> {
    if (!this.#deps.canStore()) return [];
    await this.flush();
    await this.#start();
    const events = await this.#deps.log.list(this.#identity.shopper());
    return events.map((event) => {
      const userId = event.userId ?? this.#identity.userOf(event.anonymousId);
      return userId === undefined || event.userId !== undefined ? event : { ...event, userId };
    });
  }

  /**
   * Opens storage and loads the identity ahead of the first write, so that a page closed right
   * after its first event still writes it synchronously from the `pagehide` handler.
   */
  warmUp(): void {
    if (!this.#deps.canStore()) return;
    this.#start().catch((error: unknown) => this.#deps.reportError(error, 'Opening the device storage failed'));
  }

  /** Drops everything in memory: the queue, the identity, the cleaning state. Storage is the caller's. */
  async forget(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    await Promise.all([...this.#writes]);
    this.#identity.reset();
    this.#dedupe.clear();
    this.#flood.reset();
    this.#ready = false;
    this.#started = undefined;
  }

  /**
   * Loads the stored identity, applies the retention policy (a shopper back after months finds old
   * events gone before anything reads them), and teaches the deduplicator the log's recent tail, so
   * that a reload does not record its product view twice. Runs once per start (again after forget).
   */
  #start(): Promise<void> {
    this.#started ??= (async () => {
      await this.#identity.load();
      await this.#applyRetention().catch((error: unknown) =>
        this.#deps.reportError(error, 'Applying retention failed'),
      );
      const since = this.#deps.now() - Math.max(this.#deps.options.cleaning.repeatViewMs, 60_000);
      const recent = await this.#deps.log.list({ since }).catch((error: unknown) => {
        this.#deps.reportError(error, 'Reading recent events failed');
        return [];
      });
      this.#dedupe.remember(recent);
      this.#ready = true;
    })().catch((error: unknown) => {
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  #writeAfterStart(batch: QueueEntry[]): Promise<void> {
    this.#waiting++;
    const started = this.#start();
    started.catch(() => {
      // The start failed: put the batch back rather than lose it; the next flush tries again.
      this.#waiting--;
      this.#queue = [...batch, ...this.#queue];
    });
    return started.then(() => {
      this.#waiting--;
      return this.#write(batch);
    });
  }

  /** Applies identity changes and stamps, deduplicates and stores a batch, in queue order. */
  async #write(batch: QueueEntry[]): Promise<void> {
    const kept: TrackedEvent[] = [];
    for (const entry of batch) {
      if (entry.kind === 'sign-in') {
        if (this.#identity.signIn(entry.userId, entry.at)) this.#deps.onShopperChanged();
      } else if (entry.kind === 'sign-out') {
        if (this.#identity.signOut()) this.#deps.onShopperChanged();
      } else if (entry.kind === 'stamped') {
        kept.push(entry.event);
      } else {
        const event = entry.event;
        Object.assign(event, this.#identity.touch(event.time));
        const duplicate = this.#dedupe.check(event);
        if (duplicate === 'same-id') this.#reject('duplicate', `event ${event.id} was already recorded`, event.type);
        else if (duplicate)
          this.#reject(
            'duplicate',
            `a repeated view within ${this.#deps.options.cleaning.repeatViewMs} ms`,
            event.type,
          );
        else kept.push(event);
      }
    }
    if (kept.length === 0) return this.#identity.save();
    try {
      // One transaction for the events and the identity that stamped them, started now: a flush
      // from a pagehide handler must reach storage before the page goes away.
      const result = await this.#deps.log.append(kept, this.#identity.records());
      this.#retryMs = RETRY_MS;
      for (let i = 0; i < result.duplicates; i++) this.#reject('duplicate', 'an event with this id is already stored');
      this.#deps.onStored(kept);
    } catch (error) {
      this.#retry(kept);
      throw error;
    }
    await this.#applyRetention();
  }

  async #applyRetention(): Promise<void> {
    await this.#deps.log.evict(evictionPolicy(this.#deps.options.retention, this.#deps.now()));
  }

  /** Puts a batch whose write failed back at the head of the queue, and tries again later. */
  #retry(events: TrackedEvent[]): void {
    const entries: QueueEntry[] = events.map((event) => ({ kind: 'stamped', event }));
    this.#queue = [...entries, ...this.#queue];
    const overflow = this.#queue.length - MAX_QUEUED;
    if (overflow > 0) {
      this.#queue.splice(0, overflow);
      this.#deps.reportError(
        new OmniPersonaError(
          'STORAGE_UNAVAILABLE',
          `Storage keeps failing; dropped the ${overflow} oldest unwritten events`,
        ),
        'Storing events failed',
      );
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    }
  }

  #nextTime(now: number): number {
    this.#lastTime = Math.max(now, this.#lastTime + 1);
    return this.#lastTime;
  }

  #enqueue(entry: QueueEntry): void {
    this.#queue.push(entry);
    if (this.#identity.unstored && !this.#adopting) {
      this.#adopting = this.#identity
        .adoptStored()
        .catch((error: unknown) => this.#deps.reportError(error, 'Reading the stored identity failed'))
        .finally(() => {
          this.#adopting = undefined;
        });
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  #reject(reason: RejectionReason, detail: string, type?: string): void {
    this.#rejected[reason]++;
    this.#deps.onRejected({ reason, detail, ...(type === undefined ? {} : { type }) });
  }
}

function countEvents(entries: readonly QueueEntry[]): number {
  return entries.filter((entry) => entry.kind === 'event' || entry.kind === 'stamped').length;
}
