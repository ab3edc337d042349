/**
 * Rejects event floods: more than `maxPerSecond` calls within one second. Every call counts, refused
 * ones too, so a script that tracks in a loop is refused for as long as it keeps going, rather than
 * storing `maxPerSecond` events of every second of it. A person, even replaying queued calls at page
 * load, stays far below the default.
 */
export class FloodGuard {
  readonly #max: number;
  /** Arrival times of the last `max` calls, as a ring. */
  readonly #arrivals: number[] = [];
  #next = 0;

  constructor(maxPerSecond: number) {
    this.#max = Math.max(1, Math.floor(maxPerSecond));
  }

  /** Records a call at `now` (ms) and says whether it is within the rate. */
  admit(now: number): boolean {
    const oldest = this.#arrivals.length < this.#max ? undefined : this.#arrivals[this.#next];
    if (this.#arrivals.length < this.#max) this.#arrivals.push(now);
    else this.#arrivals[this.#next] = now;
    this.#next = (this.#next + 1) % this.#max;
    return oldest === undefined || now - oldest >= 1000;
  }

  reset(): void {
    this.#arrivals.length = 0;
    this.#next = 0;
  }
}
