import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '../../../src/browser/random-id.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;

describe('randomId', () => {
  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'isSecureContext');
  });

  it('gives v4 UUIDs on plain-HTTP pages too, where crypto.randomUUID is missing', () => {
    Object.defineProperty(globalThis, 'isSecureContext', { value: false, configurable: true });
    const ids = new Set(Array.from({ length: 1000 }, randomId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(V4);
  });

  it('uses the platform UUID in secure contexts', () => {
    expect(randomId()).toMatch(V4);
  });
});
