import { OmniPersonaError } from '../../core/errors.js';
import { decodeTensors, encodeTensors } from '../../core/sync/tensor-codec.js';
import type { SqlQueryable } from './sql-client.js';
import { insertModel, loadWeights, readModel, readOptimizer, STORED_LIMITS, writeOptimizer } from './sql-rows.js';
import type { ModelRecord, PendingUpdate, RoundCounts, RoundPolicy, UpdateOutcome } from './sync-store.js';

/** An update's own refusal (unknown or stale base), which leaves the transaction usable for the others. */
export function refusal(error: unknown): OmniPersonaError {
  if (error instanceof OmniPersonaError && (error.code === 'NOT_FOUND' || error.code === 'STALE_UPDATE')) return error;
  throw error;
}

/**
 * The current round inside one write transaction that holds the write lock: adds updates one by
 * one, and aggregates the round when one completes it, the next round starting at once.
 */
export class RoundWriter {
  readonly #tx: SqlQueryable;
  readonly #keep: number;
  readonly #model: (version: number) => Promise<ModelRecord | undefined>;
  #current: ModelRecord | undefined;
  #pending: number;

  private constructor(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
    current: ModelRecord | undefined,
    pending: number,
  ) {
    this.#tx = tx;
    this.#keep = keep;
    this.#model = model;
    this.#current = current;
    this.#pending = pending;
  }

  /** `model` reads a version's record, which never changes (from memory when it can). */
  static async open(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
  ): Promise<RoundWriter> {
    const current = await readModel(tx);
    const [count] = current
      ? await tx.query<{ n: number }>(
          'SELECT count(*)::integer AS n FROM omnipersona_pending_updates WHERE round_version = $1',
          [current.version],
        )
      : [];
    return new RoundWriter(tx, keep, model, current, count?.n ?? 0);
  }

  async add(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome> {
    const tx = this.#tx;
    const current = this.#current;
    const base = update.baseVersion;
    if (!current || base < 1 || base > current.version) {
      throw new OmniPersonaError(
        'NOT_FOUND',
        `Base model version ${base} does not exist; the current version is ${current?.version ?? 'none'}`,
      );
    }
    const round = current.version;
    if (round - base > policy.maxStaleness) {
      throw new OmniPersonaError(
        'STALE_UPDATE',
        `Update is based on model version ${base}, but the current version is ${round}: download it and train again`,
      );
    }
    if (base < round && !sameShape(await this.#model(base), current)) {
      throw new OmniPersonaError(
        'STALE_UPDATE',
        `Update is based on model version ${base}, whose shape version ${round} no longer has: download it and train again`,
      );
    }
    await tx.query(
      'INSERT INTO omnipersona_pending_updates (base_version, round_version, examples, payload) VALUES ($1, $2, $3, $4)',
      [base, round, update.examples, update.encoded ?? encodeTensors(update.delta, {}, update.storeAs ?? 'F32')],
    );
    this.#pending++;
    if (this.#pending < policy.size) return { version: round, pending: this.#pending };

    const rows = await tx.query<{ base_version: number; examples: number; payload: Uint8Array }>(
      'SELECT base_version, examples, payload FROM omnipersona_pending_updates WHERE round_version = $1 ORDER BY id',
      [round],
    );
    const updates = rows.map((row) => ({
      baseVersion: row.base_version,
      examples: row.examples,
      delta: decodeTensors(row.payload, STORED_LIMITS).tensors,
      staleness: round - row.base_version,
    }));
    const previous = await readOptimizer(tx, round);
    const { weights, optimizer } = await policy.aggregate(await loadWeights(tx, round), updates, previous);
    const next = await insertModel(
      tx,
      round + 1,
      current.catalogVersion,
      {
        config: current.config,
        weights,
        updates: current.updates + updates.length,
        rounds: addRound(current.rounds, policy.noiseMultiplier),
      },
      this.#keep,
    );
    if (optimizer) await writeOptimizer(tx, next.version, optimizer);
    this.#current = next;
    this.#pending = 0;
    return { version: next.version, pending: 0 };
  }
}

/** Whether two versions' weights have the same tensors and shapes. */
function sameShape(a: ModelRecord | undefined, b: ModelRecord): boolean {
  return a !== undefined && JSON.stringify(a.config) === JSON.stringify(b.config);
}

/** `rounds` and one more, with noise of `noiseMultiplier` (0 for none). */
function addRound(rounds: RoundCounts, noiseMultiplier: number): RoundCounts {
  if (!(noiseMultiplier > 0)) return { ...rounds, plain: rounds.plain + 1 };
  return { ...rounds, noisy: rounds.noisy + 1, privacyLoss: rounds.privacyLoss + 1 / noiseMultiplier ** 2 };
}
