import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalogFeed, readCatalogFeed } from '../../src/server/index.js';
import { tempDir } from './helpers.js';

const items = [
  { id: 'a', category: 'Shoes > Running', price: 10 },
  { id: 'b', category: ['Bags'] },
];

describe('catalog feeds', () => {
  it('reads a JSON array, an {items} document and JSONL to the same normalised items', async () => {
    const dir = await tempDir();
    const paths = {
      array: join(dir, 'feed.json'),
      document: join(dir, 'doc.json'),
      lines: join(dir, 'feed.jsonl'),
    };
    await writeFile(paths.array, JSON.stringify(items));
    await writeFile(paths.document, JSON.stringify({ items }, null, 2));
    await writeFile(paths.lines, `${items.map((item) => JSON.stringify(item)).join('\n')}\n\n`);
    const expected = [
      { id: 'a', category: ['Shoes', 'Running'], price: 10 },
      { id: 'b', category: ['Bags'] },
    ];
    try {
      for (const path of Object.values(paths)) expect(await readCatalogFeed(path)).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads a CSV feed by its header, converting prices and stock, skipping empty cells', async () => {
    const dir = await tempDir();
    const path = join(dir, 'feed.csv');
    await writeFile(
      path,
      '\uFEFFid,category,price,inStock,name\r\na,Shoes > Running,10,no,\r\n"b","Bags",,TRUE,"Tote, large"\r\n',
    );
    try {
      expect(await readCatalogFeed(path)).toEqual([
        { id: 'a', category: ['Shoes', 'Running'], price: 10, inStock: false },
        { id: 'b', category: ['Bags'], inStock: true, name: 'Tote, large' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => parseCatalogFeed('id,price\na,"12', 'csv')).toThrow(/not valid CSV/u);
    expect(() => parseCatalogFeed('id,price\na,12,50\n', 'csv')).toThrow(/not valid CSV/u);
  });

  it('falls back to lines when a file without the extension is not one JSON document', () => {
    expect(parseCatalogFeed('{"id":"a"}\n{"id":"b"}').map((item) => item.id)).toEqual(['a', 'b']);
  });

  it('names the bad line of a JSONL feed', () => {
    expect(() => parseCatalogFeed('{"id":"a"}\n{"id":', 'jsonl')).toThrow(/line 2, is not JSON/);
  });

  it('says which item is invalid and why', () => {
    const error = (() => {
      try {
        parseCatalogFeed(JSON.stringify([{ id: 'a' }, { id: '' }]));
      } catch (caught) {
        return caught as { code: string; message: string };
      }
    })();
    expect(error?.code).toBe('INVALID_REQUEST');
    expect(error?.message).toMatch(/items\.1\.id/);
  });

  it('refuses an empty feed and an unreadable file with INVALID_REQUEST', async () => {
    expect(() => parseCatalogFeed('[]')).toThrow(/at least one item/);
    await expect(readCatalogFeed('/nonexistent/feed.json')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringContaining('/nonexistent/feed.json'),
    });
  });
});
