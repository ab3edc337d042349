import { OmniPersonaError } from '../../core/errors.js';
import { type ModelConfig, modelSpec } from '../../core/model/model-spec.js';
import { tensorSize } from '../../core/model/weights.js';
import { decodeTensors, encodeTensors } from '../../core/sync/tensor-codec.js';
import { DeltaAverage } from '../federated-average.js';
import { addUpdateSums, type UpdateSum } from '../update-processing.js';
import type { PayloadCache } from './payload-cache.js';
import type { RoundPresums, StoredRow } from './round-presums.js';
import type { SqlQueryable } from './sql-client.js';
import { insertModel, loadWeights, readOptimizer, readRound, STORED_LIMITS, writeOptimizer } from './sql-rows.js';
import type { ModelRecord, PendingUpdate, RoundCounts, RoundPolicy, UpdateOutcome } from './sync-store.js';

/** An update's own refusal (unknown or stale base), which leaves the transaction usable for the others. */
export function refusal(error: unknown): OmniPersonaError {
  if (error instanceof OmniPersonaError && (error.code === 'NOT_FOUND' || error.code === 'STALE_UPDATE')) return error;
  throw error;
}

/**
 * The current round inside one write transaction that holds the write lock: adds updates one by
 * one, and aggregates the round when one completes it, the next round starting at once.
 *
 * Updates wait in memory until the round completes or the transaction ends ({@link flush}), which
 * stores them as one part of their round: each update as received, or, when that takes more than
 * {@link ROWS_PER_SUM_BYTES} times the bytes, their weighted sum, one dense float32 row however many
 * updates it holds. A burst then writes a few rows per transaction, and a quiet server stores each
 * update in its few KiB.
 */
export class RoundWriter {
  readonly #tx: SqlQueryable;
  readonly #keep: number;
  readonly #model: (version: number) => Promise<ModelRecord | undefined>;
  readonly #payloads: PayloadCache;
  readonly #presums: RoundPresums;
  #current: ModelRecord | undefined;
  #pending: number;
  /** Updates of the current round not stored yet, with the policy they came with. */
  #waiting: Array<{ update: PendingUpdate; policy: RoundPolicy }> = [];
  /** Rows this write stored for the current round, for {@link committed}. */
  #stored: StoredRow[] = [];

  private constructor(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
    memory: { payloads: PayloadCache; presums: RoundPresums },
    current: ModelRecord | undefined,
    pending: number,
  ) {
    this.#tx = tx;
    this.#keep = keep;
    this.#model = model;
    this.#payloads = memory.payloads;
    this.#presums = memory.presums;
    this.#current = current;
    this.#pending = pending;
  }

  /**
   * `model` reads a version's record, which never changes (from memory when it can); `payloads`
   * keeps what this process stores, for the aggregation to read from memory, and `presums` sums
   * it while the round fills ({@link committed}).
   */
  static async open(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
    memory: { payloads: PayloadCache; presums: RoundPresums },
  ): Promise<RoundWriter> {
    const round = await readRound(tx);
    const current = round && (await model(round.version));
    return new RoundWriter(tx, keep, model, memory, current, round?.pending ?? 0);
  }

  /** Call once the write's transaction has committed: its stored updates may be summed ahead. */
  committed(): void {
    const current = this.#current;
    if (current && this.#stored.length > 0) this.#presums.add(current.version, current.config, this.#stored);
    this.#stored = [];
  }

  async add(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome> {
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
    this.#waiting.push({ update: { ...update, staleness: round - base }, policy });
    this.#pending++;
    if (this.#pending < policy.size) return { version: round, pending: this.#pending };
    return this.#aggregate(current, policy);
  }

  /** Stores the updates still waiting, as one part of the current round. Call before committing. */
  async flush(): Promise<void> {
    const current = this.#current;
    const waiting = this.#waiting.splice(0);
    if (!current || waiting.length === 0) return;
    const round = current.version;
    // A float32 sum of the whole model, sized from the shapes alone.
    const sumBytes = modelSpec(current.config).reduce((bytes, spec) => bytes + 4 * tensorSize(spec.shape), 0);
    if (waiting.reduce((bytes, { update }) => bytes + update.encoded.length, 0) <= ROWS_PER_SUM_BYTES * sumBytes) {
      const values: unknown[] = [];
      const rows = waiting.map(({ update }, index) => {
        values.push(update.baseVersion, round, update.examples, update.encoded);
        const at = 4 * index;
        return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4})`;
      });
      // PostgreSQL inserts (and numbers) the rows of a VALUES list in its order, and returns them so.
      const ids = await this.#tx.query<{ id: number }>(
        `INSERT INTO omnipersona_pending_updates (base_version, round_version, examples, payload) VALUES ${rows.join(', ')}
         RETURNING id`,
        values,
      );
      waiting.forEach(({ update, policy }, index) => {
        const id = ids[index]?.id;
        if (id === undefined) return;
        this.#payloads.set(id, round, update.encoded);
        this.#stored.push({ id, update, policy });
      });
      return;
    }
    const sum = await sumByPolicy(current.config, waiting);
    await this.#tx.query(
      'INSERT INTO omnipersona_round_sums (round_version, updates, weight, payload) VALUES ($1, $2, $3, $4)',
      [round, sum.count, sum.weight, encodeTensors(sum.sums, {}, 'F32')],
    );
  }

  /** The round's stored parts and waiting updates, summed and aggregated into the next version. */
  async #aggregate(current: ModelRecord, policy: RoundPolicy): Promise<UpdateOutcome> {
    const tx = this.#tx;
    const round = current.version;
    const weights = await loadWeights(tx, round);
    const average = new DeltaAverage(weights);
    const sums = await tx.query<{ updates: number; weight: number; payload: Uint8Array }>(
      'SELECT updates, weight, payload FROM omnipersona_round_sums WHERE round_version = $1 ORDER BY id',
      [round],
    );
    for (const row of sums) average.addSum(decodeTensors(row.payload, STORED_LIMITS).tensors, row.weight, row.updates);
    // The rows summed while the round filled; the others are summed now.
    const presummed = await this.#presums.settle(round);
    for (const sum of presummed.sums) average.addSum(sum.sums, sum.weight, sum.count);
    const stored = await this.#storedUpdates(round, presummed.ids);
    const waiting = this.#waiting.splice(0);
    const updates = [...stored.map((update) => ({ update, policy })), ...waiting];
    if (updates.length > 0) {
      const sum = await sumByPolicy(current.config, updates);
      average.addSum(sum.sums, sum.weight, sum.count);
    }
    const previous = await readOptimizer(tx, round);
    const { weights: next, optimizer } = await policy.aggregate(weights, average, previous);
    const record = await insertModel(
      tx,
      round + 1,
      current.catalogVersion,
      {
        config: current.config,
        weights: next,
        updates: current.updates + average.count,
        rounds: addRound(current.rounds, policy.noiseMultiplier),
      },
      this.#keep,
    );
    if (optimizer) await writeOptimizer(tx, record.version, optimizer);
    this.#current = record;
    this.#pending = 0;
    this.#payloads.forgetRounds(round);
    this.#presums.forgetRounds(round);
    this.#stored = [];
    return { version: record.version, pending: 0 };
  }

  /**
   * The updates stored for `round`, bar the rows in `summed`, their payloads from memory when this
   * process wrote them. Those leave the cache, as the sum may take their buffers over: should the
   * aggregation fail, they are read back from the database.
   */
  async #storedUpdates(round: number, summed: ReadonlySet<number>): Promise<PendingUpdate[]> {
    const tx = this.#tx;
    const rows = (
      await tx.query<{ id: number; base_version: number; examples: number }>(
        'SELECT id, base_version, examples FROM omnipersona_pending_updates WHERE round_version = $1 ORDER BY id',
        [round],
      )
    ).filter((row) => !summed.has(row.id));
    const cached = new Map(rows.map((row) => [row.id, this.#payloads.take(row.id)]));
    const missing = rows.filter((row) => !cached.get(row.id)).map((row) => row.id);
    const read =
      missing.length === 0
        ? []
        : await tx.query<{ id: number; payload: Uint8Array }>(
            'SELECT id, payload FROM omnipersona_pending_updates WHERE id = ANY($1::integer[])',
            [missing],
          );
    const payloads = new Map(read.map((row) => [row.id, row.payload]));
    return rows.map((row) => {
      const encoded = cached.get(row.id) ?? payloads.get(row.id);
      if (!encoded) throw new OmniPersonaError('INTERNAL', `Pending update ${row.id} has no payload`);
      return { baseVersion: row.base_version, examples: row.examples, encoded, staleness: round - row.base_version };
    });
  }
}

/**
 * How many times a sum's bytes the updates of a write may take and still be stored as they came. A
 * sum costs more than its bytes: the write waits, holding the lock, for a worker to add the updates
 * up, and the aggregation reads the sum back (as hex text, on the embedded database), where the
 * updates' own payloads come from memory. Against a factor of 1, 3 raised the updates accepted per
 * second of a busy server (rounds of 1,000) by about 7%; a third lowered them by about 10%.
 */
const ROWS_PER_SUM_BYTES = 3;

/**
 * The sum of `updates` as their policies count them: one sum per policy (a server gives every
 * update the same one), added up.
 */
async function sumByPolicy(
  config: ModelConfig,
  updates: ReadonlyArray<{ update: PendingUpdate; policy: RoundPolicy }>,
): Promise<UpdateSum> {
  const byPolicy = new Map<RoundPolicy, PendingUpdate[]>();
  for (const { update, policy } of updates) {
    const list = byPolicy.get(policy);
    if (list) list.push(update);
    else byPolicy.set(policy, [update]);
  }
  const sums = await Promise.all([...byPolicy].map(([policy, list]) => policy.sum(config, list)));
  return sums.slice(1).reduce(addUpdateSums, sums[0] as UpdateSum);
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
