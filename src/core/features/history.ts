import type { Catalog } from '../catalog.js';
import { type EventType, eventItems, type TrackedEvent } from '../event.js';
import type { HistoryInput, TrainingExample } from '../model/model-runtime.js';

/** How much one event of each type says about the shopper's taste, relative to a product view. */
export const EVENT_WEIGHTS: Readonly<Record<EventType, number>> = {
  page: 0,
  view: 1,
  click: 1,
  add_to_cart: 3,
  remove_from_cart: 0,
  purchase: 4,
  search: 0,
  rate: 2,
  // Dwell is a graded signal on an item already counted by its view; the model reads it separately.
  engagement: 0,
  custom: 0,
};

export interface HistoryOptions {
  /** Most recent item events the model reads. @default 50 */
  maxLength?: number;
  /** An event loses half its weight after this many days. @default 14 */
  halfLifeDays?: number;
}

const DAY = 86_400_000;

interface ItemStep {
  item: number;
  weight: number;
  time: number;
}

/**
 * The item events of a log, oldest first, as model rows with their type weights. Unknown items are
 * skipped, and consecutive events on one item (a card click, then its product page) are one step
 * carrying the strongest signal.
 */
export function itemSteps(events: readonly TrackedEvent[], catalog: Catalog, rows = catalog.size): ItemStep[] {
  const steps: ItemStep[] = [];
  const ordered = [...events].sort((a, b) => a.time - b.time);
  for (const event of ordered) {
    const weight = EVENT_WEIGHTS[event.type];
    if (weight === 0) continue;
    for (const item of eventItems(event)) {
      const row = catalog.indexOf(item.id);
      if (row === undefined || row >= rows) continue;
      const last = steps.at(-1);
      if (last?.item === row) {
        last.weight = Math.max(last.weight, weight);
        last.time = event.time;
      } else {
        steps.push({ item: row, weight, time: event.time });
      }
    }
  }
  return steps;
}

/** The model input for "what should this shopper see next", weighting recent and strong signals more. */
export function historyInput(steps: readonly ItemStep[], now: number, options: HistoryOptions = {}): HistoryInput {
  const recent = steps.slice(-(options.maxLength ?? 50));
  const halfLife = (options.halfLifeDays ?? 14) * DAY;
  const decay = (time: number) => 0.5 ** (Math.max(0, now - time) / halfLife);
  return {
    items: Int32Array.from(recent, (step) => step.item),
    weights: Float32Array.from(recent, (step) => step.weight * decay(step.time)),
  };
}

/** Next-item examples from one shopper's steps: every step after the first is a target for what came before it. */
export function trainingExamples(steps: readonly ItemStep[], options: HistoryOptions = {}): TrainingExample[] {
  const examples: TrainingExample[] = [];
  for (let position = 1; position < steps.length; position++) {
    const target = steps[position] as ItemStep;
    examples.push({ history: historyInput(steps.slice(0, position), target.time, options), target: target.item });
  }
  return examples;
}
