import type { ModelConfig } from '../../core/model/model-spec.js';
import type { UpdateSum } from '../update-processing.js';
import type { PayloadCache } from './payload-cache.js';
import type { PendingUpdate, RoundPolicy } from './sync-store.js';

/** A stored update of the current round, by its row id, as a write committed it. */
export interface StoredRow {
  id: number;
  /** With its staleness against the round. */
  update: PendingUpdate;
  policy: RoundPolicy;
}

/** One round's sums done or under way, and the rows waiting for the next. */
interface RoundState {
  config: ModelConfig;
  /** Rows committed and not yet in a sum, by policy. */
  waiting: Map<RoundPolicy, StoredRow[]>;
  jobs: Array<Promise<{ sum: UpdateSum; ids: number[] } | undefined>>;
}

/**
 * Sums of a round's stored updates, added up while the round fills: the write that completes a
 * round adds them to the few updates not summed yet, instead of every client waiting while a worker
 * adds up the whole round inside that write (at rounds of 1,000, most of a fifth of the server's
 * time had gone to that wait).
 *
 * Only rows this process committed and still holds the payloads of are summed here, their payloads
 * taken from the cache as a write's aggregation would take them. A sum that fails leaves its rows
 * to the aggregation, which reads them back from the database, as it reads every row another
 * process wrote.
 */
export class RoundPresums {
  readonly #payloads: PayloadCache;
  readonly #batch: number;
  readonly #rounds = new Map<number, RoundState>();

  /** `batch`: rows summed together, at least (the rest wait for more, or for the aggregation). */
  constructor(payloads: PayloadCache, batch = PRESUM_BATCH) {
    this.#payloads = payloads;
    this.#batch = batch;
  }

  /**
   * Takes rows a write committed to `round`, and sums them once `batch` of one policy are waiting.
   * Rounds before `round` are aggregated (here or by another process) and let go of.
   */
  add(round: number, config: ModelConfig, rows: readonly StoredRow[]): void {
    this.forgetRounds(round - 1);
    let state = this.#rounds.get(round);
    if (!state) {
      state = { config, waiting: new Map(), jobs: [] };
      this.#rounds.set(round, state);
    }
    for (const row of rows) {
      const list = state.waiting.get(row.policy) ?? [];
      list.push(row);
      state.waiting.set(row.policy, list);
      if (list.length < this.#batch) continue;
      state.waiting.delete(row.policy);
      state.jobs.push(this.#sum(state.config, row.policy, list));
    }
  }

  /**
   * For the write that aggregates `round`: the sums finished, once those under way are, and the rows
   * they hold. Rows still waiting for a batch are left to the aggregation.
   */
  async settle(round: number): Promise<{ sums: UpdateSum[]; ids: Set<number> }> {
    const done = await Promise.all(this.#rounds.get(round)?.jobs ?? []);
    const sums: UpdateSum[] = [];
    const ids = new Set<number>();
    for (const job of done) {
      if (!job) continue;
      sums.push(job.sum);
      for (const id of job.ids) ids.add(id);
    }
    return { sums, ids };
  }

  /** Lets go of rounds up to `round`: they are aggregated. */
  forgetRounds(round: number): void {
    for (const version of this.#rounds.keys()) if (version <= round) this.#rounds.delete(version);
  }

  async #sum(
    config: ModelConfig,
    policy: RoundPolicy,
    rows: readonly StoredRow[],
  ): Promise<{ sum: UpdateSum; ids: number[] } | undefined> {
    const taken: StoredRow[] = [];
    for (const row of rows) {
      const encoded = this.#payloads.take(row.id);
      if (encoded) taken.push({ ...row, update: { ...row.update, encoded } });
    }
    if (taken.length === 0) return undefined;
    try {
      const sum = await policy.sum(
        config,
        taken.map((row) => row.update),
      );
      return { sum, ids: taken.map((row) => row.id) };
    } catch {
      // The rows are read back from the database when the round is aggregated.
      return undefined;
    }
  }
}

/** Rows of one policy summed together: enough that a sum's dense reply costs little per update. */
const PRESUM_BATCH = 64;
