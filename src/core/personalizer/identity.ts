import type { EventQuery, KeyValueStore } from '../adapters.js';
import { OmniPersonaError } from '../errors.js';

const IDENTITY_KEY = 'identity';

/** A session ends after this much inactivity. */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/** How many anonymous-to-user links are kept; the oldest go first. */
const MAX_LINKS = 100;

/** An anonymous id of this device that belongs to a signed-in user: its events are that user's history. */
export interface IdentityLink {
  anonymousId: string;
  userId: string;
  /** When the link was made (epoch ms). */
  at: number;
}

/** Who the shopper is on this device, and their current session, as stored (record version 2). */
export interface IdentityState {
  version: 2;
  anonymousId: string;
  userId?: string;
  sessionId: string;
  /** Time of the last event, for the inactivity timeout. */
  lastActivity: number;
  links: IdentityLink[];
}

/** The stored record before links existed (version 1): `userId` alone marked a signed-in shopper. */
interface IdentityStateV1 {
  version?: undefined;
  anonymousId: string;
  userId?: string;
  sessionId: string;
  lastActivity: number;
}

/** What an event is stamped with. */
export interface EventIdentity {
  anonymousId: string;
  sessionId: string;
  userId?: string;
}

/**
 * Anonymous id, user id and session, persisted so they survive reloads.
 *
 * Stitching: the event log is append-only, and an event keeps the identity it was recorded under.
 * `identify(userId)` links the current anonymous id to the user; a user's history is every event
 * recorded under a linked anonymous id or carrying the user id ({@link Identity.shopper}), so what the
 * shopper did before signing in counts as theirs, on this device, from then on. Signing out starts a
 * new anonymous id and session: the old history stays stored, linked to the user who made it, but
 * nothing new is linked to it, and it comes back if the same user signs in again.
 *
 * All methods but `load` and `save` are synchronous, so the order of `track()` and `identify()`
 * calls is the order in which events get their identity.
 */
export class Identity {
  readonly #kv: KeyValueStore;
  readonly #randomId: () => string;
  #state?: IdentityState;
  #loading?: Promise<IdentityState>;
  /** Created here for want of a stored identity, and not stored yet: see {@link adoptStored}. */
  #unstored = false;

  constructor(kv: KeyValueStore, randomId: () => string) {
    this.#kv = kv;
    this.#randomId = randomId;
  }

  /** Whether the state is in memory, so the synchronous methods can run. */
  get loaded(): boolean {
    return this.#state !== undefined;
  }

  get userId(): string | undefined {
    return this.#state?.userId;
  }

  /**
   * Reads the stored identity once (a fresh one when there is none, or when `fromStorage` is false,
   * as under consent `none`). Later calls share the first read.
   */
  load(fromStorage = true): Promise<IdentityState> {
    if (this.#state) return Promise.resolve(this.#state);
    this.#loading ??= (async () => {
      const stored = fromStorage ? await this.#kv.get<IdentityState | IdentityStateV1>(IDENTITY_KEY) : undefined;
      // A reset while reading wins over what was read.
      if (!this.#state) {
        this.#state = stored ? migrateIdentity(stored) : this.#fresh();
        this.#unstored = fromStorage && !stored;
      }
      this.#loading = undefined;
      return this.#state;
    })();
    return this.#loading;
  }

  /**
   * Before this identity is first stored: takes the stored one instead if another tab of the shop
   * stored one since this tab read none (two tabs opened at once on a first visit), so that both
   * tabs record one shopper.
   */
  /** Whether this identity was created here and not stored yet. */
  get unstored(): boolean {
    return this.#unstored;
  }

  async adoptStored(): Promise<void> {
    if (!this.#unstored) return;
    const stored = await this.#kv.get<IdentityState | IdentityStateV1>(IDENTITY_KEY);
    if (stored && this.#unstored) this.#state = migrateIdentity(stored);
    this.#unstored = false;
  }

  /** The identity of an event at `time`, starting a new session after inactivity. */
  touch(time: number): EventIdentity {
    const state = this.#require();
    if (time - state.lastActivity > SESSION_TIMEOUT_MS) state.sessionId = this.#randomId();
    state.lastActivity = Math.max(state.lastActivity, time);
    return {
      anonymousId: state.anonymousId,
      sessionId: state.sessionId,
      ...(state.userId === undefined ? {} : { userId: state.userId }),
    };
  }

  /**
   * Signs a user in: links the current anonymous id to them. Signing in as someone else while a
   * user is signed in first signs that user out, so one person's anonymous browsing never joins
   * another's history.
   * @returns whether another user was signed out first
   */
  signIn(userId: string, at: number): boolean {
    const state = this.#require();
    if (state.userId === userId) return false;
    const switched = this.signOut();
    state.userId = userId;
    const others = state.links.filter((link) => link.anonymousId !== state.anonymousId);
    state.links = [...others, { anonymousId: state.anonymousId, userId, at }].slice(-MAX_LINKS);
    return switched;
  }

  /**
   * Signs the user out: a new anonymous id and session. Does nothing for an anonymous shopper, so a
   * page that calls `identify(currentUser?.id)` on every load keeps its anonymous history.
   * @returns whether a user was signed out
   */
  signOut(): boolean {
    const state = this.#require();
    if (state.userId === undefined) return false;
    delete state.userId;
    state.anonymousId = this.#randomId();
    state.sessionId = this.#randomId();
    state.lastActivity = 0;
    return true;
  }

  /** Which stored events are the current shopper's history. */
  shopper(): EventQuery {
    const state = this.#require();
    if (state.userId === undefined) return { anonymousIds: [state.anonymousId] };
    const linked = state.links.filter((link) => link.userId === state.userId).map((link) => link.anonymousId);
    return { anonymousIds: [...new Set([...linked, state.anonymousId])], userId: state.userId };
  }

  /** The user an anonymous id was linked to, for reading old events as the user's. */
  userOf(anonymousId: string): string | undefined {
    return this.#state?.links.find((link) => link.anonymousId === anonymousId)?.userId;
  }

  async save(): Promise<void> {
    if (this.#state) await this.#kv.set(IDENTITY_KEY, this.#state);
  }

  /** The stored form, for writing in one transaction with the events it stamped. */
  records(): Record<string, unknown> {
    const state = this.#state;
    return state ? { [IDENTITY_KEY]: { ...state, links: state.links.map((link) => ({ ...link })) } } : {};
  }

  /** A new anonymous shopper with no links: used by `forget()`. */
  reset(): void {
    this.#state = this.#fresh();
    this.#unstored = false;
  }

  #require(): IdentityState {
    if (!this.#state) throw new OmniPersonaError('INTERNAL', 'The identity was used before it was loaded');
    return this.#state;
  }

  #fresh(): IdentityState {
    return { version: 2, anonymousId: this.#randomId(), sessionId: this.#randomId(), lastActivity: 0, links: [] };
  }
}

/**
 * Brings a stored identity record to the current version. Version 1 had no links: a signed-in
 * shopper's anonymous id becomes their first link, so their earlier events stay theirs.
 */
export function migrateIdentity(stored: IdentityState | IdentityStateV1): IdentityState {
  if (stored.version === 2) return stored;
  const { userId, anonymousId, sessionId, lastActivity } = stored;
  return {
    version: 2,
    anonymousId,
    sessionId,
    lastActivity,
    ...(userId === undefined ? {} : { userId }),
    links: userId === undefined ? [] : [{ anonymousId, userId, at: lastActivity }],
  };
}
