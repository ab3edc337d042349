import type { Page } from '@playwright/test';

/** An event as the SDK stores it in IndexedDB (the fields these tests read). */
export interface StoredEvent {
  id: string;
  type: string;
  time: number;
  name?: string;
  userId?: string;
  anonymousId: string;
  item?: { id: string; category?: string[] };
  context?: { url?: string; referrer?: string };
}

/**
 * Reads the events the SDK stored for a site, straight from IndexedDB (`omnipersona:<site>`,
 * store `events`), in the order IndexedDB returns them (by primary key, a random id). Opening a database
 * that does not exist yet would create it empty and keep the SDK's upgrade from running, so a
 * missing database reads as no events.
 */
export async function readStoredEvents(page: Page, site: string): Promise<StoredEvent[]> {
  return page.evaluate(async (name) => {
    const exists = (await indexedDB.databases()).some((db) => db.name === name);
    if (!exists) return [];
    return new Promise<StoredEvent[]>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('events')) {
          db.close();
          resolve([]);
          return;
        }
        const request = db.transaction('events').objectStore('events').getAll();
        request.onsuccess = () => {
          db.close();
          resolve(request.result as StoredEvent[]);
        };
        request.onerror = () => reject(request.error);
      };
    });
  }, `omnipersona:${site}`);
}
