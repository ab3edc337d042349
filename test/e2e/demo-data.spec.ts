import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

/*
 * The demo's data scripts, in Node against the built package: the catalog in the repository is the
 * one its script builds, and the model's training is reproducible, so anyone can rebuild both.
 */

const data = new URL('../../demo/data/', import.meta.url);

test('the committed catalog is what build-catalog.mjs writes: 300 products, 8 departments', async () => {
  const { buildCatalog } = await import('../../demo/data/build-catalog.mjs');
  const committed = JSON.parse(readFileSync(new URL('catalog.json', data), 'utf8'));
  expect(buildCatalog()).toEqual(committed);
  expect(committed).toHaveLength(300);
  expect(new Set(committed.map((item: { category: string[] }) => item.category[0])).size).toBe(8);
});

test('the model trains to the same weights twice, and the committed one fits the catalog', async () => {
  test.setTimeout(120_000);
  const { buildModel } = await import('../../demo/data/build-model.mjs');
  const { decodeTensors } = await import('../../src/core/sync/tensor-codec.js');
  const items = JSON.parse(readFileSync(new URL('catalog.json', data), 'utf8'));
  const small = { shoppers: 150, epochs: 1 };
  const [first, second] = [await buildModel(items, small), await buildModel(items, small)];
  expect(second.config).toEqual(first.config);
  for (const [name, tensor] of Object.entries(first.weights)) {
    expect(Array.from(second.weights[name]?.data ?? [])).toEqual(Array.from(tensor.data));
  }
  const committed = decodeTensors(new Uint8Array(readFileSync(new URL('model.safetensors', data))));
  expect(JSON.parse(committed.metadata['omnipersona.config'] as string)).toEqual(first.config);
  for (const [name, tensor] of Object.entries(first.weights)) {
    expect(committed.tensors[name]?.shape).toEqual(tensor.shape);
  }
});
