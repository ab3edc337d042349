import type { TrainingExample } from '../core/model/model-runtime.js';
import { initialWeights } from '../core/model/model-spec.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import { trainModel } from '../ml/train-model.js';
import type { EvalSettings } from './eval-settings.js';
import type { ModelSetup } from './model-setup.js';
import { openSavedTeacher } from './saved-teacher.js';
import { sequenceExamples } from './sequence-features.js';

/**
 * The centralized baseline: one model trained on every user's examples together, with the device's
 * training code (mini-batch Adam, full softmax) and no time budget, its learning rate decaying
 * linearly to `settings.finalRateShare` of the start. The caller disposes the model.
 */
export async function trainCentralized(
  train: readonly Int32Array[],
  setup: ModelSetup,
  settings: EvalSettings['centralized'],
  log: (line: string) => void = () => {},
): Promise<RecommenderModel> {
  const newestWeight = settings.newestWeight ?? 1;
  const examples = train.flatMap((sequence) => withNewestRepeated(sequenceExamples(sequence), newestWeight));
  const teacher = settings.teacher && {
    model: await openSavedTeacher(settings.teacher.files, setup),
    weight: settings.teacher.weight,
  };
  const model = RecommenderModel.create(setup.config, initialWeights(setup.config, setup.seed), setup.features);
  try {
    log(
      `centralized: ${examples.length} examples, ${settings.epochs} epochs, learning rate ${settings.learningRate}` +
        (settings.dropout === undefined ? '' : `, dropout ${settings.dropout}`) +
        (settings.stepDropout === undefined ? '' : `, step dropout ${settings.stepDropout}`) +
        (settings.contrastive === undefined
          ? ''
          : `, contrastive weight ${settings.contrastive.weight} at temperature ${settings.contrastive.temperature}` +
            (settings.contrastive.positive === 'sameNextItem' ? ', positives with the same next item' : '')) +
        (settings.averageDecay === undefined ? '' : `, weights averaged with decay ${settings.averageDecay}`) +
        (settings.labelSmoothing === undefined ? '' : `, label smoothing ${settings.labelSmoothing}`) +
        (settings.excludeSeen ? ', seen items left out of the softmax' : '') +
        (newestWeight > 1 ? `, each user's newest example counted ${newestWeight} times` : '') +
        (settings.teacher
          ? `, ${settings.teacher.weight} of each target from the ${settings.teacher.files.length > 1 ? 'mean of the teachers' : 'teacher'} ${settings.teacher.files.join(', ')}`
          : ''),
    );
    const result = await trainModel(
      model,
      examples,
      {
        epochs: settings.epochs,
        learningRate: settings.learningRate,
        finalLearningRate: settings.learningRate * settings.finalRateShare,
        timeBudgetMs: Number.POSITIVE_INFINITY,
        ...(settings.dropout === undefined ? {} : { dropout: settings.dropout }),
        ...(settings.stepDropout === undefined ? {} : { stepDropout: settings.stepDropout }),
        ...(settings.contrastive === undefined
          ? {}
          : {
              contrastiveWeight: settings.contrastive.weight,
              contrastiveTemperature: settings.contrastive.temperature,
              contrastivePositive: settings.contrastive.positive ?? 'augmented',
            }),
        ...(settings.averageDecay === undefined ? {} : { averageDecay: settings.averageDecay }),
        ...(settings.labelSmoothing === undefined ? {} : { labelSmoothing: settings.labelSmoothing }),
        ...(settings.excludeSeen ? { excludeSeen: true } : {}),
        ...(teacher ? { teacher } : {}),
        onEpoch: (epoch, loss) => log(`centralized: epoch ${epoch}, mean loss ${loss.toFixed(3)}`),
      },
      setup.seed,
    );
    log(`centralized: ${result.steps} steps, loss ${result.initialLoss.toFixed(3)} → ${result.loss.toFixed(3)}`);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    teacher?.model.dispose();
  }
}

/** A user's `examples` (oldest first) with the newest one appearing `weight` times in all. */
function withNewestRepeated(examples: TrainingExample[], weight: number): TrainingExample[] {
  const newest = examples[examples.length - 1];
  if (!newest || weight <= 1) return examples;
  return [...examples, ...Array.from({ length: weight - 1 }, () => newest)];
}
