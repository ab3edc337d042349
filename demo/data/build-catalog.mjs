#!/usr/bin/env node
// Builds the demo shop's catalog, demo/data/catalog.json: a few hundred products across departments,
// named, branded and priced from the tables below with a seeded generator, so that every run writes
// the same file. `complements` lists, per subcategory, what shoppers buy with it: the shopper
// simulation (build-model.mjs) follows it, and so the model learns "bought together". Draws from the
// SDK's own seeded generator, in the built package (`npm run build` first).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../dist/npm/core/random.js';

/** Departments: their brands, and per subcategory the product nouns, a price range and complements. */
export const DEPARTMENTS = [
  {
    name: 'Running',
    brands: ['Stride', 'Apex', 'Tempo Labs', 'Northpeak'],
    subcategories: [
      {
        name: 'Running Shoes',
        nouns: ['Runner', 'Racer', 'Trainer', 'Glide', 'Pacer'],
        price: [69, 179],
        with: ['Running Socks', 'Hydration'],
      },
      {
        name: 'Running Socks',
        nouns: ['Crew Socks', 'No-Show Socks', 'Compression Socks'],
        price: [9, 24],
        with: ['Running Shoes'],
      },
      {
        name: 'Running Apparel',
        nouns: ['Singlet', 'Shorts', 'Tights', 'Wind Jacket', 'Half-Zip'],
        price: [25, 120],
        with: ['Running Socks', 'Hydration'],
      },
      {
        name: 'Hydration',
        nouns: ['Soft Flask', 'Hydration Vest', 'Belt Bottle', 'Electrolyte Mix'],
        price: [12, 110],
        with: ['Running Apparel'],
      },
    ],
  },
  {
    name: 'Outdoor',
    brands: ['Trailhead', 'Summit & Co', 'Basecamp', 'Fernwood'],
    subcategories: [
      {
        name: 'Tents',
        nouns: ['Two-Person Tent', 'Ultralight Tent', 'Family Tent', 'Bivy'],
        price: [89, 499],
        with: ['Sleeping Bags', 'Headlamps'],
      },
      {
        name: 'Sleeping Bags',
        nouns: ['Down Bag', 'Synthetic Bag', 'Quilt', 'Sleeping Pad'],
        price: [49, 329],
        with: ['Tents', 'Backpacks'],
      },
      {
        name: 'Backpacks',
        nouns: ['Daypack', 'Trekking Pack', 'Hydration Pack', 'Duffel'],
        price: [39, 279],
        with: ['Headlamps', 'Hydration'],
      },
      {
        name: 'Headlamps',
        nouns: ['Headlamp', 'Lantern', 'Trail Light'],
        price: [19, 89],
        with: ['Tents', 'Backpacks'],
      },
    ],
  },
  {
    name: 'Kitchen',
    brands: ['Copperleaf', 'Morrow', 'Hearth', 'Kiln & Co'],
    subcategories: [
      {
        name: 'Coffee Makers',
        nouns: ['Pour-Over Set', 'Espresso Machine', 'French Press', 'Drip Brewer', 'Grinder'],
        price: [29, 649],
        with: ['Coffee Beans', 'Mugs'],
      },
      {
        name: 'Coffee Beans',
        nouns: ['Espresso Roast', 'Single Origin', 'Decaf Blend', 'House Blend'],
        price: [12, 32],
        with: ['Coffee Makers', 'Mugs'],
      },
      {
        name: 'Mugs',
        nouns: ['Stoneware Mug', 'Travel Mug', 'Espresso Cups', 'Glass Mug'],
        price: [12, 45],
        with: ['Coffee Beans'],
      },
      {
        name: 'Cookware',
        nouns: ['Skillet', 'Dutch Oven', 'Saucepan', 'Wok', 'Sheet Pan'],
        price: [29, 299],
        with: ['Knives'],
      },
      {
        name: 'Knives',
        nouns: ["Chef's Knife", 'Paring Knife', 'Bread Knife', 'Whetstone'],
        price: [25, 219],
        with: ['Cookware'],
      },
    ],
  },
  {
    name: 'Home Office',
    brands: ['Deskline', 'Ergonom', 'Lumen', 'Keyfield'],
    subcategories: [
      {
        name: 'Desks',
        nouns: ['Standing Desk', 'Writing Desk', 'Corner Desk'],
        price: [179, 899],
        with: ['Chairs', 'Lamps'],
      },
      { name: 'Chairs', nouns: ['Task Chair', 'Ergonomic Chair', 'Stool'], price: [99, 799], with: ['Desks'] },
      { name: 'Lamps', nouns: ['Desk Lamp', 'Light Bar', 'Floor Lamp'], price: [29, 189], with: ['Desks'] },
      {
        name: 'Keyboards',
        nouns: ['Mechanical Keyboard', 'Low-Profile Keyboard', 'Keycap Set', 'Wrist Rest'],
        price: [19, 229],
        with: ['Mice'],
      },
      { name: 'Mice', nouns: ['Wireless Mouse', 'Trackball', 'Mouse Pad'], price: [15, 129], with: ['Keyboards'] },
    ],
  },
  {
    name: 'Beauty',
    brands: ['Lumière', 'Verdant', 'Saltwater', 'Petal & Pine'],
    subcategories: [
      {
        name: 'Skincare',
        nouns: ['Cleanser', 'Serum', 'Moisturiser', 'Sunscreen', 'Toner'],
        price: [12, 89],
        with: ['Makeup', 'Hair Care'],
      },
      {
        name: 'Hair Care',
        nouns: ['Shampoo', 'Conditioner', 'Hair Oil', 'Styling Cream'],
        price: [9, 49],
        with: ['Skincare'],
      },
      { name: 'Makeup', nouns: ['Lipstick', 'Mascara', 'Foundation', 'Blush'], price: [10, 59], with: ['Skincare'] },
      {
        name: 'Fragrance',
        nouns: ['Eau de Parfum', 'Eau de Toilette', 'Body Mist'],
        price: [29, 149],
        with: ['Skincare'],
      },
    ],
  },
  {
    name: 'Audio',
    brands: ['Sonora', 'Fidelio', 'Wavecraft', 'Oakhill Audio'],
    subcategories: [
      {
        name: 'Headphones',
        nouns: ['Over-Ear Headphones', 'Earbuds', 'Studio Headphones', 'Sport Earbuds'],
        price: [39, 449],
        with: ['Headphone Accessories'],
      },
      {
        name: 'Headphone Accessories',
        nouns: ['Headphone Stand', 'Carry Case', 'Ear Cushions', 'DAC'],
        price: [15, 149],
        with: ['Headphones'],
      },
      {
        name: 'Speakers',
        nouns: ['Bookshelf Speakers', 'Portable Speaker', 'Soundbar', 'Subwoofer'],
        price: [59, 799],
        with: ['Turntables'],
      },
      {
        name: 'Turntables',
        nouns: ['Turntable', 'Phono Preamp', 'Cartridge'],
        price: [79, 699],
        with: ['Records', 'Speakers'],
      },
      {
        name: 'Records',
        nouns: ['Jazz LP', 'Soul LP', 'Ambient LP', 'Rock LP'],
        price: [19, 45],
        with: ['Turntables'],
      },
    ],
  },
  {
    name: 'Kids',
    brands: ['Little Oak', 'Brightside', 'Puddle'],
    subcategories: [
      {
        name: 'Toys',
        nouns: ['Wooden Blocks', 'Stacking Rings', 'Plush Fox', 'Train Set'],
        price: [12, 89],
        with: ['Kids Books'],
      },
      {
        name: 'Kids Books',
        nouns: ['Picture Book', 'Bedtime Stories', 'Activity Book'],
        price: [7, 25],
        with: ['Toys'],
      },
      { name: 'Board Games', nouns: ['Family Game', 'Card Game', 'Puzzle'], price: [14, 59], with: ['Kids Books'] },
    ],
  },
  {
    name: 'Garden',
    brands: ['Greenway', 'Root & Branch', 'Tillage'],
    subcategories: [
      {
        name: 'Garden Tools',
        nouns: ['Trowel', 'Pruning Shears', 'Hori Hori', 'Watering Can'],
        price: [12, 79],
        with: ['Planters', 'Seeds'],
      },
      {
        name: 'Planters',
        nouns: ['Terracotta Pot', 'Raised Bed', 'Hanging Planter'],
        price: [15, 189],
        with: ['Seeds', 'Garden Tools'],
      },
      {
        name: 'Seeds',
        nouns: ['Herb Seeds', 'Tomato Seeds', 'Wildflower Mix', 'Salad Seeds'],
        price: [4, 15],
        with: ['Planters', 'Garden Tools'],
      },
    ],
  },
];

/** Adjectives that tell one product of a brand and noun from another. */
const ADJECTIVES = [
  'Classic',
  'Pro',
  'Lite',
  'Everyday',
  'Studio',
  'Field',
  'Nova',
  'Terra',
  'Aero',
  'Vista',
  'Evergreen',
  'Sol',
];

/** Products per subcategory. */
const PER_SUBCATEGORY = { min: 7, max: 11 };

/**
 * The catalog: ids `sku-001`…, each with a name, a category path (department, subcategory), a
 * brand, a price in USD, stock, and its page and image URLs in the demo shop.
 */
export function buildCatalog(seed = 20261130) {
  const random = seededRandom(seed);
  const pick = (values) => values[Math.floor(random() * values.length)];
  const items = [];
  for (const department of DEPARTMENTS) {
    for (const sub of department.subcategories) {
      const count = PER_SUBCATEGORY.min + Math.floor(random() * (PER_SUBCATEGORY.max - PER_SUBCATEGORY.min + 1));
      const names = new Set();
      for (let i = 0; i < count; i++) {
        const brand = pick(department.brands);
        let name;
        do name = `${pick(ADJECTIVES)} ${pick(sub.nouns)}`;
        while (names.has(`${brand} ${name}`));
        names.add(`${brand} ${name}`);
        const [low, high] = sub.price;
        // Prices skew low, as a shop's do, and end in .99 or whole dollars.
        const raw = low + (high - low) * random() ** 1.6;
        const price = raw < 30 ? Math.round(raw) - 0.01 : Math.round(raw / 5) * 5 - 0.01;
        const id = `sku-${String(items.length + 1).padStart(3, '0')}`;
        items.push({
          id,
          name,
          category: [department.name, sub.name],
          brand,
          price: Math.max(price, 1.99),
          currency: 'USD',
          url: `#/p/${id}`,
          image: `/images/${id}.svg`,
          inStock: random() > 0.06,
        });
      }
    }
  }
  return items;
}

/** Each subcategory's complements, by name. */
export function complements() {
  return new Map(DEPARTMENTS.flatMap((department) => department.subcategories.map((sub) => [sub.name, sub.with])));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const items = buildCatalog();
  const file = fileURLToPath(new URL('catalog.json', import.meta.url));
  writeFileSync(file, `${JSON.stringify(items, null, 2)}\n`);
  console.log(`${items.length} products in ${DEPARTMENTS.length} departments: ${file}`);
}
