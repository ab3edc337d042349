/**
 * The payloads of the pending updates this process wrote, by row id, so that aggregating a round
 * reads back from the database only those another process wrote (or this one before a restart).
 * A row's payload never changes and ids are never reused, so an entry is right for as long as it
 * is kept; a write that rolls back leaves entries whose ids no read will return. Holds at most
 * `maxBytes`, the oldest entries leaving first.
 */
export class PayloadCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<number, { round: number; payload: Uint8Array }>();
  #bytes = 0;

  constructor(maxBytes = DEFAULT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps `payload`, stored as row `id` of round `round`. */
  set(id: number, round: number, payload: Uint8Array): void {
    if (payload.byteLength > this.#maxBytes) return;
    this.#remove(id);
    this.#entries.set(id, { round, payload });
    this.#bytes += payload.byteLength;
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest);
    }
  }

  get(id: number): Uint8Array | undefined {
    return this.#entries.get(id)?.payload;
  }

  /** The payload of row `id`, let go of: whoever takes it may hand its buffer on. */
  take(id: number): Uint8Array | undefined {
    const payload = this.get(id);
    this.#remove(id);
    return payload;
  }

  /** Lets go of every entry of rounds up to `round`: they are aggregated. */
  forgetRounds(round: number): void {
    for (const [id, entry] of this.#entries) if (entry.round <= round) this.#remove(id);
  }

  #remove(id: number): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#bytes -= entry.payload.byteLength;
  }
}

/** Enough for rounds of a few thousand updates of the default model's size. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
