import type { Catalog } from '../catalog.js';
import { type EventType, eventItems, type TrackedEvent } from '../event.js';
import type { HistoryInput, TrainingExample } from '../model/model-runtime.js';
import { HISTORY_LENGTH, type SignalKind, signalRow } from '../model/model-spec.js';

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

/** The model's reading of each event type that names items; the others carry no item taste. */
const EVENT_SIGNALS: Partial<Record<EventType, SignalKind>> = {
  view: 'view',
  click: 'view',
  add_to_cart: 'cart',
  purchase: 'purchase',
  rate: 'rate',
};

export interface HistoryOptions {
  /** Most recent item steps the model reads. @default HISTORY_LENGTH */
  maxLength?: number;
}

/** One step of a shopper's item history, as the model reads it. */
export interface ItemStep {
  item: number;
  kind: SignalKind;
  time: number;
}

/**
 * The item events of a log, oldest first, as model rows with their kinds. Unknown items are
 * skipped, and consecutive events on one item (a card click, then its product page) are one step
 * carrying the strongest signal.
 */
export function itemSteps(events: readonly TrackedEvent[], catalog: Catalog, rows = catalog.size): ItemStep[] {
  const steps: ItemStep[] = [];
  const ordered = [...events].sort((a, b) => a.time - b.time);
  for (const event of ordered) {
    const kind = EVENT_SIGNALS[event.type];
    if (kind === undefined) continue;
    for (const item of eventItems(event)) {
      const row = catalog.indexOf(item.id);
      if (row === undefined || row >= rows) continue;
      const last = steps.at(-1);
      if (last?.item === row) {
        if (EVENT_WEIGHTS[event.type] > EVENT_WEIGHTS[KIND_EVENTS[last.kind]]) last.kind = kind;
        last.time = event.time;
      } else {
        steps.push({ item: row, kind, time: event.time });
      }
    }
  }
  return steps;
}

/** An event type of each kind, to compare kinds by {@link EVENT_WEIGHTS}. */
const KIND_EVENTS: Readonly<Record<SignalKind, EventType>> = {
  view: 'view',
  cart: 'add_to_cart',
  purchase: 'purchase',
  rate: 'rate',
};

/**
 * The model input for "what should this shopper see next" at time `now`: the last steps with their
 * kinds and how long ago they happened, and the shopper's profile features when known.
 */
export function historyInput(
  steps: readonly ItemStep[],
  now: number,
  profile?: Float32Array,
  options: HistoryOptions = {},
): HistoryInput {
  const recent = steps.slice(-(options.maxLength ?? HISTORY_LENGTH));
  const input: HistoryInput = {
    items: Int32Array.from(recent, (step) => step.item),
    signals: Int32Array.from(recent, (step) => signalRow(step.kind, Math.max(0, now - step.time))),
  };
  if (profile) input.profile = profile;
  return input;
}

/**
 * Next-item examples from one shopper's steps: every step after the first is a target for what came
 * before it, read as of the target's time. `profile` (the shopper's profile now) goes with every
 * example: it is what the model sees when it serves them.
 */
export function trainingExamples(
  steps: readonly ItemStep[],
  profile?: Float32Array,
  options: HistoryOptions = {},
): TrainingExample[] {
  const examples: TrainingExample[] = [];
  const length = options.maxLength ?? HISTORY_LENGTH;
  for (let position = 1; position < steps.length; position++) {
    const target = steps[position] as ItemStep;
    const history = steps.slice(Math.max(0, position - length), position);
    examples.push({ history: historyInput(history, target.time, profile, options), target: target.item });
  }
  return examples;
}
