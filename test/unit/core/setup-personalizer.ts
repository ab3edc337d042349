import type { EventLog, KeyValueStore } from '../../../src/core/adapters.js';
import type { Rejection } from '../../../src/core/cleaning/index.js';
import type { OmniPersonaError } from '../../../src/core/errors.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import {
  type CorePersonalizer,
  createCorePersonalizer,
  type PersonalizerPlatform,
} from '../../../src/core/personalizer/create-core-personalizer.js';
import type { PersonalizerOptions } from '../../../src/core/personalizer/options.js';

export const START = Date.UTC(2026, 0, 1);

export interface Harness {
  personalizer: CorePersonalizer;
  log: EventLog;
  kv: KeyValueStore;
  errors: OmniPersonaError[];
  rejections: Rejection[];
  /** Moves the platform clock (the clock does not move on its own). */
  advance(ms: number): void;
  now(): number;
}

/**
 * A personalizer over the memory adapters with a manual clock and predictable ids (`id-1`, …). No
 * model runtime: these tests are about the event log; `recently-viewed` and `profile()` need none.
 */
export function setupPersonalizer(
  options: PersonalizerOptions = {},
  platform: Partial<PersonalizerPlatform> = {},
): Harness {
  const kv = platform.kv ?? new MemoryKeyValueStore();
  const log = platform.log ?? new MemoryEventLog(kv);
  let clock = START;
  let id = 0;
  const personalizer = createCorePersonalizer(
    { trainAfterEvents: 0, ...options },
    {
      log,
      kv,
      loadRuntime: async () => {
        throw new Error('These tests have no model runtime');
      },
      scheduleIdle: (task) => task(),
      now: () => clock,
      randomId: () => `id-${++id}`,
      ...platform,
    },
  );
  const errors: OmniPersonaError[] = [];
  const rejections: Rejection[] = [];
  personalizer.on('error', (error) => errors.push(error));
  personalizer.on('rejected', (rejection) => rejections.push(rejection));
  return {
    personalizer,
    log,
    kv,
    errors,
    rejections,
    advance: (ms) => {
      clock += ms;
    },
    now: () => clock,
  };
}

export function item(id: string, category = 'Coffee', price = 10) {
  return { id, name: `Item ${id}`, category, price };
}

/** The ids of the items in the current shopper's recently-viewed list, most recent first. */
export async function recentlyViewed(personalizer: CorePersonalizer): Promise<string[]> {
  return (await personalizer.recommend({ kind: 'recently-viewed', count: 50 })).map((pick) => pick.item.id);
}
