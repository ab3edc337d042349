import type { KeyValueStore } from '../adapters.js';

const KEY = 'impressions';
/** Impressions older than this no longer count: a week later, an item may be shown again. */
const WINDOW_MS = 7 * 86_400_000;
/** Most items remembered; the least recently shown go first. */
const MAX_ITEMS = 1000;
/** Changes are written this long after the first of them, in one write. */
const SAVE_DELAY_MS = 1000;

interface Entry {
  shown: number;
  at: number;
}

/**
 * How often each item was shown to the shopper in recommendations without them engaging with it
 * (a view, a click, a cart action resets it), so that `maxImpressions` can leave out what they keep
 * ignoring. Kept in the key-value store when consent allows storing, else for the page only.
 */
export class Impressions {
  readonly #kv: KeyValueStore;
  readonly #now: () => number;
  readonly #canStore: () => boolean;
  #entries = new Map<string, Entry>();
  #loaded?: Promise<void>;
  /** Set once `#loaded` has settled. */
  #ready = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(kv: KeyValueStore, now: () => number, canStore: () => boolean) {
    this.#kv = kv;
    this.#now = now;
    this.#canStore = canStore;
  }

  /** Items shown at least `max` times (within the window) since the shopper last engaged with them. */
  async overshown(max: number): Promise<Set<string>> {
    await this.#load();
    const since = this.#now() - WINDOW_MS;
    return new Set([...this.#entries].filter(([, entry]) => entry.at >= since && entry.shown >= max).map(([id]) => id));
  }

  async shown(ids: readonly string[]): Promise<void> {
    await this.#load();
    const at = this.#now();
    for (const id of ids) {
      const entry = this.#entries.get(id);
      this.#entries.delete(id);
      this.#entries.set(id, { shown: entry && entry.at >= at - WINDOW_MS ? entry.shown + 1 : 1, at });
    }
    for (const id of this.#entries.keys()) {
      if (this.#entries.size <= MAX_ITEMS) break;
      this.#entries.delete(id);
    }
    this.#scheduleSave();
  }

  /** The shopper engaged with the item: its count starts again. */
  engaged(id: string): void {
    // Called for every accepted event: no promise per event once the counts are loaded.
    if (this.#ready) this.#forgetItem(id);
    else void this.#load().then(() => this.#forgetItem(id));
  }

  #forgetItem(id: string): void {
    if (this.#entries.delete(id)) this.#scheduleSave();
  }

  /** Forgets every count, in memory; storage is the caller's. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = new Map();
    this.#loaded = undefined;
    this.#ready = false;
  }

  #load(): Promise<void> {
    if (this.#loaded) return this.#loaded;
    const loading = (async () => {
      if (!this.#canStore()) return;
      const stored = await this.#kv.get<Array<[string, Entry]>>(KEY).catch(() => undefined);
      const since = this.#now() - WINDOW_MS;
      for (const [id, entry] of stored ?? []) {
        if (entry.at >= since && !this.#entries.has(id)) this.#entries.set(id, entry);
      }
    })();
    this.#loaded = loading;
    // A reset while loading starts over: this load no longer counts.
    void loading.then(() => {
      if (this.#loaded === loading) this.#ready = true;
    });
    return loading;
  }

  #scheduleSave(): void {
    if (!this.#canStore() || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#canStore()) this.#kv.set(KEY, [...this.#entries]).catch(() => undefined);
    }, SAVE_DELAY_MS);
  }
}
