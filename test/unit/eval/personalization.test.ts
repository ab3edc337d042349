import { beforeAll, expect, it } from 'vitest';
import { CoVisits } from '../../../src/core/co-visits.js';
import { FINE_TUNE } from '../../../src/core/model/model-runtime.js';
import { initialWeights } from '../../../src/core/model/model-spec.js';
import { evaluateRanking } from '../../../src/eval/evaluate-ranking.js';
import type { RankingCase } from '../../../src/eval/leave-one-out.js';
import { modelSetup } from '../../../src/eval/model-setup.js';
import { personalizationGain } from '../../../src/eval/personalization.js';
import { targetPlace } from '../../../src/eval/ranking-metrics.js';
import { sequenceExamples, sequenceHistory } from '../../../src/eval/sequence-features.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import { trainModel } from '../../../src/ml/train-model.js';

const ITEMS = 30;

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', initTimeoutMs: 10_000 });
});

it('evaluateRanking tells where each case landed, by its index across batches', async () => {
  const cases: RankingCase[] = [
    { history: Int32Array.from([0]), target: 3 },
    { history: Int32Array.from([4]), target: 1 },
    { history: Int32Array.from([2]), target: 2 },
  ];
  // Item i scores i: the first target ranks below item 4, the second below 2 and 3 (4 is in its history).
  const heard: Array<[number, number | undefined]> = [];
  await evaluateRanking(
    cases,
    5,
    async (histories) => Float32Array.from({ length: histories.length * 5 }, (_, i) => i % 5),
    2,
    (index, place) => heard.push([index, place?.above]),
  );
  // The third target is in its own history: it is not ranked.
  expect(heard).toEqual([
    [0, 1],
    [1, 2],
    [2, undefined],
  ]);
});

it.each([
  ['the models alone', false],
  ['with the co-visits added, as devices rank', true],
])(
  'counts the shoppers whose held-out item the fine-tune ranks higher and lower (%s)',
  async (_, withCoVisits) => {
    const setup = modelSetup(ITEMS, 8, 2);
    // Shoppers who each stay within half of the catalog, never twice on one item, and a model that
    // first learnt from half of them.
    const sequences = Array.from({ length: 8 }, (_, user) =>
      Int32Array.from({ length: 12 }, (_, step) => (user % 2) * 15 + ((user + 2 * step) % 15)),
    );
    const chosen = sequences.map((sequence) => ({
      history: sequence.subarray(0, -1),
      target: sequence.at(-1) as number,
    }));
    const model = RecommenderModel.create(setup.config, initialWeights(setup.config, 2), setup.features);
    try {
      await trainModel(
        model,
        sequences.slice(4).flatMap((sequence) => sequenceExamples(sequence)),
        {
          epochs: 20,
          learningRate: 0.02,
          timeBudgetMs: Number.POSITIVE_INFINITY,
        },
      );
      const global = await model.weights();
      // Co-visits that lead each shopper's newest item into the other half of the catalog, away from their next one.
      const table = CoVisits.count(
        chosen.map(({ history }) => [history.at(-1) as number, ((history.at(-1) as number) + 15) % ITEMS]),
        ITEMS,
      );
      const coVisits = withCoVisits ? { table, options: { recent: 3, weight: 1.5 } } : undefined;
      const result = await personalizationGain(model, chosen, ITEMS, 2, coVisits);
      const scores = async ({ history }: RankingCase) => {
        const scored = await model.score(sequenceHistory(history));
        if (coVisits) table.addTo(scored, history, coVisits.options);
        return scored;
      };

      // The same comparison made by hand: each shopper's rank under the global model and under their own fine-tune.
      const rank = (scores: Float32Array, { target, history }: RankingCase) => {
        const place = targetPlace(scores, target, history);
        return place ? place.above + place.tied / 2 : Number.NaN;
      };
      let higher = 0;
      let lower = 0;
      for (const [index, entry] of chosen.entries()) {
        model.setWeights(global);
        const before = rank(await scores(entry), entry);
        const options = { ...FINE_TUNE, timeBudgetMs: Number.POSITIVE_INFINITY };
        await trainModel(model, sequenceExamples(entry.history), options, 2 + index);
        const after = rank(await scores(entry), entry);
        if (after < before) higher++;
        if (after > before) lower++;
      }
      expect(result?.users).toBe(8);
      expect([result?.rankedHigher, result?.rankedLower]).toEqual([higher, lower]);
      expect(higher + lower).toBeGreaterThan(0);
      // The global rows rank as the scorer they were given does.
      model.setWeights(global);
      const ranked = await evaluateRanking(chosen, ITEMS, async ([history]) => scores({ history } as RankingCase), 1);
      expect(result?.global).toEqual(ranked);
      const alone = await evaluateRanking(
        chosen,
        ITEMS,
        async ([history]) => model.score(sequenceHistory(history as Int32Array)),
        1,
      );
      if (withCoVisits) expect(result?.global).not.toEqual(alone);
    } finally {
      model.dispose();
    }
  },
  60_000,
);
