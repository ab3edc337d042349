import { readFile } from 'node:fs/promises';
import type { CatalogItem } from '../core/catalog.js';
import { OmniPersonaError } from '../core/errors.js';
import { parseCatalogInput } from './catalog-input.js';

/** How a feed file is laid out: one JSON document (an array or `{ items }`), or one item per line. */
export type CatalogFeedFormat = 'json' | 'jsonl';

/**
 * Reads and validates a catalog feed file. `.jsonl` and `.ndjson` files are read line by line;
 * anything else as one JSON document, falling back to lines when it is not one.
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
  return parseCatalogFeed(text, /\.(jsonl|ndjson)$/iu.test(path) ? 'jsonl' : undefined, path);
}

/**
 * Parses a catalog feed's text. Without `format`, the text is tried as one JSON document first.
 * @throws OmniPersonaError `INVALID_REQUEST` naming the bad line or item.
 */
export function parseCatalogFeed(text: string, format?: CatalogFeedFormat, source = 'catalog feed'): CatalogItem[] {
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
  const items: unknown[] = [];
  for (const [index, line] of text.split(/\r?\n/u).entries()) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new OmniPersonaError(
        'INVALID_REQUEST',
        `Catalog feed ${source}, line ${index + 1}, is not JSON: ${reason}`,
      );
    }
  }
  return parseCatalogInput(items, `Catalog feed ${source}`);
}
