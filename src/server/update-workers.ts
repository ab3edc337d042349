import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OmniPersonaError, type OmniPersonaErrorCode } from '../core/errors.js';
import type { ModelConfig } from '../core/model/model-spec.js';
import {
  addUpdateSums,
  type CheckedUpdate,
  inlineUpdateProcessor,
  type UpdateCheck,
  type UpdatePart,
  type UpdateProcessor,
  type UpdateSum,
} from './update-processing.js';

/** A job for an update worker (`update-worker.ts`). */
export type WorkerJob =
  | { kind: 'check'; bytes: Uint8Array; check: UpdateCheck }
  | { kind: 'sum'; config: ModelConfig; parts: UpdatePart[] };

/** A job as sent, numbered for its reply. */
export type WorkerRequest = WorkerJob & { id: number };

/** An update worker's answer to the request of the same id. */
export type WorkerReply =
  | { id: number; result: CheckedUpdate | UpdateSum; error?: undefined }
  | { id: number; error: { code: OmniPersonaErrorCode; message: string } };

/** The worker's entry point, next to this module in the build. */
const WORKER_URL = new URL('./update-worker.js', import.meta.url);

/** Updates in one job of a sum, at most. */
const PARTS_PER_JOB = 16;

/** What a job's promise settles. */
interface Queued {
  resolve: (result: CheckedUpdate | UpdateSum) => void;
  reject: (error: unknown) => void;
}

/** One worker thread and the jobs it has been sent and not answered yet, by id. */
interface PoolWorker {
  worker: Worker;
  running: Map<number, Queued>;
}

/**
 * {@link UpdateProcessor} over a pool of worker threads, so that decoding, checking and summing
 * updates (the arithmetic of a round) run beside the thread that serves HTTP and writes the
 * database. Checks and sums have workers of their own: the store waits for a sum holding its
 * write lock, and it should not wait behind the checks of requests still arriving. Each job goes
 * to the worker of its kind with the fewest jobs running; a large sum is split into jobs and added
 * up here. A worker that dies fails its jobs with `INTERNAL` and is replaced.
 */
export class UpdateWorkerPool implements UpdateProcessor {
  /** Workers for each kind of job, so that a sum never waits behind checks. */
  readonly #lanes: Record<WorkerJob['kind'], PoolWorker[]> = { check: [], sum: [] };
  readonly #onError: (error: Error) => void;
  #nextId = 1;
  #closed = false;

  private constructor(size: number, onError: (error: Error) => void) {
    this.#onError = onError;
    for (const lane of Object.values(this.#lanes)) {
      for (let i = 0; i < size; i++) lane.push(this.#spawn(lane));
    }
  }

  /**
   * A pool of `size` workers, or the calling thread when `size` is 0 or the worker's module is not
   * there to load (as when the server runs from its TypeScript sources, under a test runner).
   * `onError` hears of a worker that died.
   */
  static create(size: number, onError: (error: Error) => void): UpdateProcessor {
    if (size < 1 || !existsSync(fileURLToPath(WORKER_URL))) return inlineUpdateProcessor;
    return new UpdateWorkerPool(size, onError);
  }

  /** Workers in the pool: as many for sums as for checks. */
  get size(): number {
    return this.#lanes.check.length + this.#lanes.sum.length;
  }

  check(bytes: Uint8Array, check: UpdateCheck): Promise<CheckedUpdate> {
    // The request's buffer moves to the worker and comes back as the checked update's, when the
    // bytes are the whole of it: a view into a buffer that holds other data is copied instead.
    const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteLength === bytes.buffer.byteLength;
    const transfer = whole ? [bytes.buffer as ArrayBuffer] : [];
    return this.#send({ kind: 'check', bytes, check }, transfer) as Promise<CheckedUpdate>;
  }

  async sum(config: ModelConfig, parts: readonly UpdatePart[]): Promise<UpdateSum> {
    // In jobs of a few updates, spread over the pool.
    const jobs = Math.max(1, Math.ceil(parts.length / PARTS_PER_JOB));
    const size = Math.ceil(parts.length / jobs);
    const sums = await Promise.all(
      Array.from({ length: jobs }, (_, job) => {
        // Copied, not transferred: a part may be a view into a buffer other rows share.
        const slice = parts.slice(job * size, (job + 1) * size).map((part) => ({
          ...part,
          encoded: part.encoded.byteLength === part.encoded.buffer.byteLength ? part.encoded : part.encoded.slice(),
        }));
        return this.#send({ kind: 'sum', config, parts: slice }, []) as Promise<UpdateSum>;
      }),
    );
    return sums.slice(1).reduce(addUpdateSums, sums[0] as UpdateSum);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#lanes.check.splice(0), ...this.#lanes.sum.splice(0)];
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  /** Posts `job` to the worker of its lane with the fewest jobs running. */
  #send(job: WorkerJob, transfer: ArrayBuffer[]): Promise<CheckedUpdate | UpdateSum> {
    if (this.#closed) return Promise.reject(new OmniPersonaError('INTERNAL', 'The update workers are closed'));
    const lane = this.#lanes[job.kind];
    const entry = lane.reduce((least, worker) => (worker.running.size < least.running.size ? worker : least));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // A worker with a job keeps the process alive until it answers.
      if (entry.running.size === 0) entry.worker.ref();
      entry.running.set(id, { resolve, reject });
      entry.worker.postMessage({ ...job, id }, transfer);
    });
  }

  #spawn(lane: PoolWorker[]): PoolWorker {
    const entry: PoolWorker = { worker: new Worker(WORKER_URL), running: new Map() };
    entry.worker.on('message', (reply: WorkerReply) => {
      const queued = entry.running.get(reply.id);
      if (!queued) return;
      entry.running.delete(reply.id);
      if (entry.running.size === 0) entry.worker.unref();
      if (reply.error) queued.reject(new OmniPersonaError(reply.error.code, reply.error.message));
      else queued.resolve(reply.result);
    });
    const fail = (error: Error) => {
      for (const { reject } of entry.running.values()) {
        reject(new OmniPersonaError('INTERNAL', `An update worker stopped: ${error.message}`));
      }
      entry.running.clear();
      const index = lane.indexOf(entry);
      if (index < 0 || this.#closed) return;
      this.#onError(error);
      lane[index] = this.#spawn(lane);
    };
    entry.worker.on('error', fail);
    entry.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    // An idle worker does not keep the process alive.
    entry.worker.unref();
    return entry;
  }
}
