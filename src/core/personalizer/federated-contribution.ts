import { FEDERATED_LOCAL, type ModelRuntime, type TrainingExample } from '../model/model-runtime.js';
import { type ModelConfig, sharedPart, withItemRows } from '../model/model-spec.js';
import { subtractWeights, type WeightSet } from '../model/weights.js';
import { factorWeightsInSlices, UPDATE_RANK } from '../sync/low-rank.js';

/**
 * A device's contribution to a federated round: `FEDERATED_LOCAL` steps on `examples` from the
 * weights the runtime holds (the global ones, with a row for every locally known item), minus
 * `base`, cut to the server's rows and shapes (`config`), the personal tensors zeroed.
 *
 * Plain gradient steps average across devices into the gradient of all their logs; the personal
 * fine-tune's Adam moves every weight by about its rate whatever the gradient, which suits one
 * shopper and would be noise in an average. The runtime is left at the stepped weights.
 *
 * Matrices come back as rank-{@link UPDATE_RANK} factors (`core/sync/low-rank.ts`), computed in
 * slices between which the page runs: what is stored until the next sync, and sent.
 */
export async function federatedContribution(
  runtime: ModelRuntime,
  examples: TrainingExample[],
  base: WeightSet,
  config: ModelConfig,
  timeBudgetMs: number,
): Promise<WeightSet> {
  await runtime.train(examples, { ...FEDERATED_LOCAL, timeBudgetMs });
  const stepped = withItemRows(await runtime.weights(), config.items);
  const delta = sharedPart(subtractWeights(stepped, base), config);
  // On the page's main thread: a pass over the item table at a time, the page's own tasks between.
  return factorWeightsInSlices(
    delta,
    { rank: UPDATE_RANK, random: Math.random },
    () => new Promise((resolve) => setTimeout(resolve, 0)),
  );
}
