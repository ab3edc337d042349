import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OmniPersonaError, type OmniPersonaErrorCode } from '../core/errors.js';
import type { ModelConfig } from '../core/model/model-spec.js';
import {
  addUpdateSums,
  inlineUpdateProcessor,
  type UpdateCheck,
  type UpdateCheckResult,
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
  | { id: number; result: UpdateCheckResult | UpdateSum; error?: undefined }
  | { id: number; error: { code: OmniPersonaErrorCode; message: string } };

/**
 * What goes over a worker's port each way: the requests that arrived in one turn of the event loop,
 * and the worker's replies to them, so that a busy server pays for one message, not one per update.
 */
export type WorkerMessage<T extends WorkerRequest | WorkerReply> = T[];

/** The worker's entry point, next to this module in the build. */
const WORKER_URL = new URL('./update-worker.js', import.meta.url);

/** Updates in one job of a sum, at least: fewer are not worth another worker's reply to add up. */
const PARTS_PER_JOB = 16;

/** What a job's promise settles. */
interface Queued {
  resolve: (result: UpdateCheckResult | UpdateSum) => void;
  reject: (error: unknown) => void;
}

/** One worker thread, the jobs it has been sent and not answered yet (by id), and those still to post. */
interface PoolWorker {
  worker: Worker;
  running: Map<number, Queued>;
  outbox: Array<{ request: WorkerRequest; transfer: ArrayBuffer[] }>;
}

/**
 * {@link UpdateProcessor} over a pool of worker threads, so that decoding, checking and summing
 * updates (the arithmetic of a round) run beside the thread that serves HTTP and writes the
 * database. Checks and sums have workers of their own: the store waits for a sum holding its
 * write lock, and it should not wait behind the checks of requests still arriving. Each job goes
 * to the worker of its kind with the fewest jobs running, posted with the others of the same turn of
 * the event loop; a large sum is split into one job per worker and added up here. A worker that dies
 * fails its jobs with `INTERNAL` and is replaced.
 */
export class UpdateWorkerPool implements UpdateProcessor {
  /** Workers for each kind of job, so that a sum never waits behind checks. */
  readonly #lanes: Record<WorkerJob['kind'], PoolWorker[]> = { check: [], sum: [] };
  readonly #onError: (error: Error) => void;
  #nextId = 1;
  #closed = false;
  #posting = false;

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

  check(bytes: Uint8Array, check: UpdateCheck): Promise<UpdateCheckResult> {
    // The request's buffer moves to the worker and comes back (as the checked update's, or as it
    // was), when the bytes are the whole of it: a view into a buffer that holds other data is copied.
    const transfer = whole(bytes) ? [bytes.buffer as ArrayBuffer] : [];
    return this.#send({ kind: 'check', bytes, check }, transfer) as Promise<UpdateCheckResult>;
  }

  async sum(config: ModelConfig, parts: readonly UpdatePart[]): Promise<UpdateSum> {
    // One job for each worker of the lane, each answering with one sum to add up here.
    const jobs = Math.max(1, Math.min(this.#lanes.sum.length, Math.ceil(parts.length / PARTS_PER_JOB)));
    const size = Math.ceil(parts.length / jobs);
    const sums = await Promise.all(
      Array.from({ length: jobs }, (_, job) => {
        // The buffers move to the worker; a part that is a view into a buffer holding other data
        // (a row of a query's result) is copied first.
        const slice = parts.slice(job * size, (job + 1) * size).map((part) => ({
          ...part,
          encoded: whole(part.encoded) ? part.encoded : part.encoded.slice(),
        }));
        const transfer = [...new Set(slice.map((part) => part.encoded.buffer as ArrayBuffer))];
        return this.#send({ kind: 'sum', config, parts: slice }, transfer) as Promise<UpdateSum>;
      }),
    );
    return sums.slice(1).reduce(addUpdateSums, sums[0] as UpdateSum);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#lanes.check.splice(0), ...this.#lanes.sum.splice(0)];
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  /**
   * Queues `job` for the worker of its lane with the fewest jobs running; the jobs of this turn of
   * the event loop are posted together once it ends.
   */
  #send(job: WorkerJob, transfer: ArrayBuffer[]): Promise<UpdateCheckResult | UpdateSum> {
    if (this.#closed) return Promise.reject(new OmniPersonaError('INTERNAL', 'The update workers are closed'));
    const lane = this.#lanes[job.kind];
    const entry = lane.reduce((least, worker) => (worker.running.size < least.running.size ? worker : least));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // A worker with a job keeps the process alive until it answers.
      if (entry.running.size === 0) entry.worker.ref();
      entry.running.set(id, { resolve, reject });
      entry.outbox.push({ request: { ...job, id }, transfer });
      if (this.#posting) return;
      this.#posting = true;
      setImmediate(() => this.#post());
    });
  }

  /** Posts each worker's queued jobs as one message. */
  #post(): void {
    this.#posting = false;
    if (this.#closed) return;
    for (const entry of [...this.#lanes.check, ...this.#lanes.sum]) {
      const jobs = entry.outbox.splice(0);
      if (jobs.length === 0) continue;
      // A message that cannot be sent (a buffer in it already moved elsewhere) goes again job by
      // job, so that only the job at fault fails, and never the server.
      if (jobs.length > 1 && this.#postJobs(entry, jobs)) continue;
      for (const job of jobs) {
        if (this.#postJobs(entry, [job])) continue;
        entry.running.get(job.request.id)?.reject(new OmniPersonaError('INTERNAL', 'An update job could not be sent'));
        entry.running.delete(job.request.id);
      }
      if (entry.running.size === 0) entry.worker.unref();
    }
  }

  /** Posts `jobs` to `entry`'s worker as one message; false when it cannot be sent (nothing is). */
  #postJobs(entry: PoolWorker, jobs: PoolWorker['outbox']): boolean {
    const requests: WorkerMessage<WorkerRequest> = jobs.map((job) => job.request);
    try {
      entry.worker.postMessage(requests, [...new Set(jobs.flatMap((job) => job.transfer))]);
      return true;
    } catch {
      return false;
    }
  }

  #spawn(lane: PoolWorker[]): PoolWorker {
    const entry: PoolWorker = {
      worker: new Worker(WORKER_URL),
      running: new Map(),
      outbox: [],
    };
    entry.worker.on('message', (replies: WorkerMessage<WorkerReply>) => {
      for (const reply of replies) {
        const queued = entry.running.get(reply.id);
        if (!queued) continue;
        entry.running.delete(reply.id);
        if (reply.error) queued.reject(new OmniPersonaError(reply.error.code, reply.error.message));
        else queued.resolve(reply.result);
      }
      if (entry.running.size === 0) entry.worker.unref();
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

/**
 * Whether `bytes` are the whole of a buffer worth transferring. Never an empty one: a buffer already
 * moved away reads as empty, and Node drops, without a word, a message that would move it again,
 * where copying it fails at once.
 */
function whole(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteLength > 0 && bytes.byteLength === bytes.buffer.byteLength;
}
