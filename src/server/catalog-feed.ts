import { readFile } from 'node:fs/promises';

import type { CatalogItem } from '../core/catalog.js';
import { OmniPersonaError } from '../core/errors.js';
import { parseCatalogInput } from './catalog-input.js';
import { csvRecords, jsonLines } from './feed-rows.js';

/**
 * How a feed is laid out: one JSON document (an array or `{ items }`), one JSON item per line, or
 * CSV with a header row naming the item fields (`id`, `name`, `category` as a path such as
 * `Shoes > Running`, `brand`, `price`, `currency`, `url`, `image`, `inStock`); other columns are ignored.
 */
export type CatalogFeedFormat = 'json' | 'jsonl' | 'csv';

/** The feed format a file name says, if it says one. */
export function feedFormatOf(path: string): CatalogFeedFormat | undefined {
  if (/\.(jsonl|ndjson)$/iu.test(path)) return 'jsonl';
  if (/\.csv$/iu.test(path)) return 'csv';
  return undefined;
}

/**
 * Reads and validates a catalog feed file. `.jsonl` and `.ndjson` files are read line by line, `.csv`
 * files as CSV; anything else as one JSON document, falling back to lines when it is not one.
 * @throws OmniPersonaError `INVALID_REQUEST` when the file is unreadable or invalid.
 */
export async function readCatalogFeed(path: string): Promise<CatalogItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OmniPersonaError('INVALID_REQUEST', `Cannot read catalog feed ${path}: ${reason}`, { cause: error });
  }
  return parseCatalogFeed(text, feedFormatOf(path), path);
}

/**
 * Parses a catalog feed's text. Without `format`, the text is tried as one JSON document first.
 * @throws OmniPersonaError `INVALID_REQUEST` naming the bad line or item.
 */
export function parseCatalogFeed(text: string, format?: CatalogFeedFormat, source = 'catalog feed'): CatalogItem[] {
  if (format === 'csv') return parseCatalogInput(csvItems(text, source), `Catalog feed ${source}`);
  if (format !== 'jsonl') {
    try {
      return parseCatalogInput(JSON.parse(text), `Catalog feed ${source}`);
    } catch (error) {
      if (error instanceof OmniPersonaError || format === 'json' || !text.trim().includes('\n')) {
        throw error instanceof SyntaxError
          ? new OmniPersonaError('INVALID_REQUEST', `Catalog feed ${source} is not JSON: ${error.message}`)
          : error;
      }
    }
  }
  const items = jsonLines(text, (line, reason) => `Catalog feed ${source}, line ${line}, is not JSON: ${reason}`);
  return parseCatalogInput(items, `Catalog feed ${source}`);
}

/** Rows of a CSV feed as item objects: numbers and booleans converted, empty cells left out. */
function csvItems(text: string, source: string): Array<Record<string, unknown>> {
  const rows = csvRecords(text, (reason) => `Catalog feed ${source} is not valid CSV: ${reason}`);
  return rows.map((row) => {
    const item: Record<string, unknown> = {};
    for (const [column, cell] of Object.entries(row)) {
      if (cell === '') continue;
      // A plain number: `12.50`, not `$12.50` or `12,50` (the item is then refused, naming its price).
      if (column === 'price') item.price = Number(cell);
      else if (column === 'inStock') item.inStock = /^(true|yes|1|in stock)$/iu.test(cell);
      else item[column] = cell;
    }
    return item;
  });
}
