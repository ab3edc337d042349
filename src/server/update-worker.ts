import { parentPort } from 'node:worker_threads';
import { OmniPersonaError } from '../core/errors.js';
import { checkUpdateBytes, sumUpdates } from './update-processing.js';
import type { WorkerReply, WorkerRequest } from './update-workers.js';
import { wasmFactorProducts } from './wasm-factor-products.js';

/**
 * A worker thread of the update pool (`update-workers.ts`): runs one request at a time and answers
 * with its result, buffers transferred, or with the error it threw. Sums multiply factors out on
 * TF.js' WASM backend when it starts, else in JavaScript.
 */
const port = parentPort;
if (!port) throw new Error('update-worker.js runs as a worker thread of the sync server');

const products = wasmFactorProducts();

port.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    if (request.kind === 'check') {
      const checked = checkUpdateBytes(request.bytes, request.check);
      reply = { id: request.id, result: checked };
      transfer.push(checked.encoded.buffer as ArrayBuffer);
    } else {
      const sum = sumUpdates(request.config, request.parts, await products);
      reply = { id: request.id, result: sum };
      for (const tensor of Object.values(sum.sums)) transfer.push(tensor.data.buffer as ArrayBuffer);
    }
  } catch (error) {
    const code = error instanceof OmniPersonaError ? error.code : 'INTERNAL';
    reply = { id: request.id, error: { code, message: error instanceof Error ? error.message : String(error) } };
  }
  port.postMessage(reply, transfer);
});
