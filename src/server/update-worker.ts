import { parentPort } from 'node:worker_threads';
import { OmniPersonaError } from '../core/errors.js';
import { checkUpdateBytes, sumUpdates } from './update-processing.js';
import type { WorkerMessage, WorkerReply, WorkerRequest } from './update-workers.js';
import { wasmFactorProducts } from './wasm-factor-products.js';

/**
 * A worker thread of the update pool (`update-workers.ts`): runs the requests of a message one at a
 * time and answers them in one message, each with its result (buffers transferred) or the error it
 * threw. Sums multiply factors out on TF.js' WASM backend when it starts, else in JavaScript.
 */
const port = parentPort;
if (!port) throw new Error('update-worker.js runs as a worker thread of the sync server');

const products = wasmFactorProducts();

port.on('message', async (requests: WorkerMessage<WorkerRequest>) => {
  const replies: WorkerMessage<WorkerReply> = [];
  const transfer = new Set<ArrayBuffer>();
  for (const request of requests) {
    try {
      if (request.kind === 'check') {
        const result = checkUpdateBytes(request.bytes, request.check);
        replies.push({ id: request.id, result });
        transfer.add((result.checked ? result.checked.encoded : result.bytes).buffer as ArrayBuffer);
      } else {
        const sum = sumUpdates(request.config, request.parts, await products);
        replies.push({ id: request.id, result: sum });
        for (const tensor of Object.values(sum.sums)) transfer.add(tensor.data.buffer as ArrayBuffer);
      }
    } catch (error) {
      const code = error instanceof OmniPersonaError ? error.code : 'INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      replies.push({ id: request.id, error: { code, message } });
    }
  }
  port.postMessage(replies, [...transfer]);
});
