#!/usr/bin/env node
// Trains the demo's global model, demo/data/model.safetensors, from simulated shoppers whose tastes
// follow the catalog's structure: each favours a department or two, a subcategory, often a brand and
// a price level, and after buying something tends to look at what goes with it (the catalog's
// complements). The simulation and training are seeded: every run on one machine writes the same
// weights. Runs the built npm package (`npm run build` first) on TF.js' WASM backend, with the
// device's own feature and training code, so the model is the one a device would train.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../dist/npm/core/random.js';
import { complements, DEPARTMENTS } from './build-catalog.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const npm = join(here, '..', '..', 'dist', 'npm');

/** How many shoppers, their events, and the training. */
const SIMULATION = { shoppers: 3000, events: [6, 30], seed: 7 };
const TRAINING = { epochs: 8, learningRate: 0.004, finalLearningRate: 0.0004, dropout: 0.3, seed: 11 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * One simulated shopper's events, oldest first, as the SDK stores them (ids, sessions, channel):
 * browsing that favours their departments, subcategory, brand and price level; carts and purchases;
 * after a purchase, complements.
 */
export function simulateShopper(catalog, random, index, start = Date.UTC(2026, 9, 1)) {
  const pick = (values) => values[Math.floor(random() * values.length)];
  const bySub = groupBy(catalog, (item) => item.category[1]);
  const favourites = [pick(DEPARTMENTS), ...(random() < 0.4 ? [pick(DEPARTMENTS)] : [])];
  const favouriteSub = pick(favourites[0].subcategories).name;
  const brand = random() < 0.6 ? pick(favourites[0].brands) : undefined;
  const level = random(); // 0: bargains, 1: premium
  const withs = complements();
  const chooseItem = (sub) => {
    const items = bySub.get(sub) ?? [];
    const prices = items.map((item) => item.price);
    const low = Math.min(...prices);
    const high = Math.max(...prices);
    // Brand and price level each make an item up to three times as likely.
    const weights = items.map((item) => {
      const position = high > low ? (item.price - low) / (high - low) : 0.5;
      return (item.brand === brand ? 3 : 1) * (1 + 2 * (1 - Math.abs(position - level)));
    });
    return items[drawIndex(weights, random)];
  };
  const chooseSub = () => {
    if (random() < 0.12) return pick(pick(DEPARTMENTS).subcategories).name;
    if (random() < 0.45) return favouriteSub;
    return pick(pick(favourites).subcategories).name;
  };

  const events = [];
  let time = start + Math.floor(random() * 30 * DAY);
  let session = 0;
  let sub = chooseSub();
  let afterPurchase;
  const count = SIMULATION.events[0] + Math.floor(random() * (SIMULATION.events[1] - SIMULATION.events[0]));
  const add = (event) => {
    events.push({
      ...event,
      id: `s${index}-e${events.length}`,
      time,
      sessionId: `s${index}-${session}`,
      anonymousId: `shopper-${index}`,
      channel: 'web',
    });
  };
  while (events.length < count) {
    if (afterPurchase && random() < 0.65) sub = pick(withs.get(afterPurchase) ?? [sub]);
    else if (random() < 0.35) sub = chooseSub();
    afterPurchase = undefined;
    const item = chooseItem(sub);
    add({ type: 'view', item: itemInput(item) });
    if (random() < 0.18) {
      time += 20_000 + Math.floor(random() * 60_000);
      add({ type: 'add_to_cart', item: itemInput(item), quantity: 1 });
      if (random() < 0.55) {
        time += 60_000 + Math.floor(random() * 300_000);
        add({
          type: 'purchase',
          orderId: `o${index}-${events.length}`,
          items: [{ item: itemInput(item), quantity: 1 }],
        });
        afterPurchase = sub;
      }
    }
    // Seconds to minutes within a session; now and then hours or days until the next.
    const gap = random() < 0.15 ? HOUR + Math.floor(random() * 5 * DAY) : 15_000 + Math.floor(random() * 120_000);
    if (gap >= HOUR) session++;
    time += gap;
  }
  return events;
}

/**
 * The item ids each of the model's simulated shoppers viewed or bought, oldest first (the same
 * shoppers, from the same seed): what a shop's own order and browsing history would give, for the
 * demo server to count into co-visits (`PUT /v1/co-visits`).
 */
export function simulatedHistories(items, shoppers = SIMULATION.shoppers) {
  const random = seededRandom(SIMULATION.seed);
  return Array.from({ length: shoppers }, (_, index) => {
    const ids = simulateShopper(items, random, index).flatMap((event) =>
      event.item ? [event.item.id] : (event.items ?? []).map((line) => line.item.id),
    );
    // A cart or purchase right after the view is the same step.
    return ids.filter((id, at) => id !== ids[at - 1]);
  });
}

function itemInput(item) {
  return { id: item.id, name: item.name, category: item.category, brand: item.brand, price: item.price };
}

function groupBy(values, key) {
  const groups = new Map();
  for (const value of values) {
    const name = key(value);
    groups.set(name, [...(groups.get(name) ?? []), value]);
  }
  return groups;
}

function drawIndex(weights, random) {
  let left = random() * weights.reduce((sum, weight) => sum + weight, 0);
  for (const [index, weight] of weights.entries()) {
    left -= weight;
    if (left < 0) return index;
  }
  return weights.length - 1;
}

/**
 * Trains the model on `shoppers` simulated shoppers against the server's own reading of the catalog
 * (an in-memory sync server imports it and gives the model's shapes). Returns the weights and config.
 */
export async function buildModel(
  items,
  { shoppers = SIMULATION.shoppers, epochs = TRAINING.epochs, log = () => {} } = {},
) {
  const { createSyncServer } = await import(join(npm, 'server', 'index.js'));
  const { Catalog } = await import(join(npm, 'core', 'catalog.js'));
  const { itemSteps, trainingExamples } = await import(join(npm, 'core', 'features', 'history.js'));
  const { computeProfile, profileFeatures } = await import(join(npm, 'core', 'features', 'profile.js'));
  const { modelFeatures } = await import(join(npm, 'core', 'personalizer', 'stored-model.js'));
  const { initialWeights } = await import(join(npm, 'core', 'model', 'model-spec.js'));
  const { selectBackend } = await import(join(npm, 'ml', 'select-backend.js'));
  const { RecommenderModel } = await import(join(npm, 'ml', 'recommender-model.js'));
  const { trainModel } = await import(join(npm, 'ml', 'train-model.js'));

  const server = await createSyncServer({ dataDir: 'memory://', logger: { info() {}, error() {} } });
  let served;
  try {
    await server.importCatalog(items);
    served = {
      catalog: (await (await server.app.request('/v1/catalog')).json()).items,
      config: (await (await server.app.request('/v1/model')).json()).config,
    };
  } finally {
    await server.close();
  }
  const catalog = new Catalog(served.catalog);
  const random = seededRandom(SIMULATION.seed);
  const examples = [];
  for (let index = 0; index < shoppers; index++) {
    const events = simulateShopper(served.catalog, random, index);
    const profile = profileFeatures(computeProfile(events, catalog));
    examples.push(...trainingExamples(itemSteps(events, catalog), profile));
  }
  log(`${shoppers} simulated shoppers, ${examples.length} training examples over ${catalog.size} products`);

  await selectBackend({ preference: 'wasm', initTimeoutMs: 30_000 });
  const model = RecommenderModel.create(
    served.config,
    initialWeights(served.config, TRAINING.seed),
    modelFeatures(catalog, served.config),
  );
  try {
    const result = await trainModel(
      model,
      examples,
      {
        epochs,
        learningRate: TRAINING.learningRate,
        finalLearningRate: TRAINING.finalLearningRate,
        dropout: TRAINING.dropout,
        timeBudgetMs: Number.POSITIVE_INFINITY,
        onEpoch: (epoch, loss) => log(`epoch ${epoch}: mean loss ${loss.toFixed(3)}`),
      },
      TRAINING.seed,
    );
    log(`${result.steps} steps, loss ${result.initialLoss.toFixed(3)} → ${result.loss.toFixed(3)}`);
    return { weights: await model.weights(), config: served.config };
  } finally {
    model.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { readFileSync } = await import('node:fs');
  const { encodeTensors } = await import(join(npm, 'core', 'sync', 'tensor-codec.js'));
  const items = JSON.parse(readFileSync(join(here, 'catalog.json'), 'utf8'));
  const started = performance.now();
  const { weights, config } = await buildModel(items, { log: (line) => console.log(line) });
  const file = join(here, 'model.safetensors');
  writeFileSync(file, encodeTensors(weights, { 'omnipersona.config': JSON.stringify(config) }, 'F16'));
  console.log(`${file} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
