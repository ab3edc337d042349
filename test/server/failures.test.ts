import { describe, expect, it } from 'vitest';
import { createSyncServer } from '../../src/server/index.js';
import { expectError, makeItems, testDatabase } from './helpers.js';

describe('when the database fails', () => {
  it('answers 500 INTERNAL with a JSON body, logs the cause, and keeps answering', async () => {
    const database = await testDatabase();
    const sql = await database.connect();
    const logged: string[] = [];
    const server = await createSyncServer({ sql, logger: { info() {}, error: (message) => logged.push(message) } });
    await server.importCatalog(makeItems(2));
    await sql.close();

    await expectError(await server.app.request('/v1/model'), 500, 'INTERNAL');
    await expectError(await server.app.request('/v1/catalog'), 500, 'INTERNAL');
    expect(logged).toEqual(['GET /v1/model failed', 'GET /v1/catalog failed']);
    expect((await server.app.request('/v1/health')).status).toBe(200);
    await server.close();
    await database.remove();
  });
});
