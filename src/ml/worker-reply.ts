import type { OmniPersonaErrorCode } from '../core/errors.js';
import type { BackendName } from '../core/model/model-runtime.js';

/** How the model worker answers a call: the value and the backend after it, or the error's code and message. */
export type WorkerReply<T> =
  | { ok: true; value: T; backend: BackendName }
  | { ok: false; code: OmniPersonaErrorCode; message: string };
