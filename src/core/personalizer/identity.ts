import type { KeyValueStore } from '../adapters.js';

const IDENTITY_KEY = 'identity';

/** Who the shopper is on this device, and their current session. */
export interface IdentityState {
  anonymousId: string;
  userId?: string;
  sessionId: string;
  /** Time of the last event, for the inactivity timeout. */
  lastActivity: number;
}

/** A session ends after this much inactivity. */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/** Anonymous id, user id and session, persisted so they survive reloads. */
export class Identity {
  readonly #kv: KeyValueStore;
  readonly #randomId: () => string;
  #state?: IdentityState;

  constructor(kv: KeyValueStore, randomId: () => string) {
    this.#kv = kv;
    this.#randomId = randomId;
  }

  get userId(): string | undefined {
    return this.#state?.userId;
  }

  async load(): Promise<IdentityState> {
    this.#state ??= (await this.#kv.get<IdentityState>(IDENTITY_KEY)) ?? this.#fresh();
    return this.#state;
  }

  /** The session an event at `time` belongs to, starting a new one after inactivity. */
  async touch(time: number): Promise<IdentityState> {
    const state = await this.load();
    if (time - state.lastActivity > SESSION_TIMEOUT_MS) state.sessionId = this.#randomId();
    state.lastActivity = Math.max(state.lastActivity, time);
    return state;
  }

  async setUser(userId: string | undefined): Promise<void> {
    const state = await this.load();
    if (userId === undefined) delete state.userId;
    else state.userId = userId;
    await this.save();
  }

  async save(): Promise<void> {
    if (this.#state) await this.#kv.set(IDENTITY_KEY, this.#state);
  }

  /** A new anonymous shopper: used by `forget()`. */
  reset(): void {
    this.#state = this.#fresh();
  }

  #fresh(): IdentityState {
    return { anonymousId: this.#randomId(), sessionId: this.#randomId(), lastActivity: 0 };
  }
}
