import type { ModelConfig } from '../../src/core/model/model-spec.js';
import type { WeightSet } from '../../src/core/model/weights.js';
import type { DemoItem } from './build-catalog.mjs';

/** Trains the demo's global model on simulated shoppers; seeded, so the same on every run. */
export function buildModel(
  items: DemoItem[],
  options?: { shoppers?: number; epochs?: number; log?: (line: string) => void },
): Promise<{ weights: WeightSet; config: ModelConfig }>;
export function simulateShopper(items: DemoItem[], random: () => number, index: number, start?: number): object[];
/** The item ids each of the model's simulated shoppers viewed or bought, oldest first. */
export function simulatedHistories(items: DemoItem[], shoppers?: number): string[][];
