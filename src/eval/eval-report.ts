import type { BackendName } from '../core/model/model-runtime.js';
import type { EvalMode, QUANTIZED_DTYPES } from './eval-mode.js';
import type { EvalTarget } from './leave-one-out.js';
import type { MetricValues } from './ranking-metrics.js';
import type { ServerRoundMetrics } from './train-via-server.js';

type QuantizedDtype = (typeof QUANTIZED_DTYPES)[number];

/**
 * One row: a mode's metrics and the wall time of training and ranking together; or, as
 * `<mode>, model alone`, that mode's model without the co-visits; or, as `<mode>@F16` and
 * `<mode>@I8`, its trained model after a round trip through a quantized download encoding (no time
 * of their own).
 */
export type EvalResult = {
  mode:
    | EvalMode
    | `${EvalMode}, model alone`
    | `${EvalMode}@${QuantizedDtype}`
    | `${EvalMode}${'' | ' fine-tuned'}, ${number}+ events`;
} & MetricValues & {
    seconds: number;
    /** Set on rows over a subset of the users (the personalisation rows): how many. */
    users?: number;
    /**
     * On the fine-tuned row: shoppers whose held-out item the fine-tune ranks higher than the global
     * model alone does, and lower.
     */
    rankedHigher?: number;
    rankedLower?: number;
  };

/** What `--json` writes. */
export interface EvalReport {
  /** The data file, as given on the command line. */
  data: string;
  /** Users ranked (those with at least three items, in the subset for `--quick`). */
  users: number;
  /** Items in the data set: every one is ranked. */
  items: number;
  results: EvalResult[];
  /** The TF.js backend of the model modes; absent when only popularity ran. */
  backend?: BackendName;
  target: EvalTarget;
  quick: boolean;
  seed: number;
  /** With `--unseen-shoppers`: the personalisation shoppers left out of the models' training. */
  unseenShoppers?: number;
  /**
   * With `federated-server`: the server's global model ranked on a seeded sample of the cases
   * before the first round and round after round.
   */
  serverProgress?: ServerRoundMetrics[];
}
