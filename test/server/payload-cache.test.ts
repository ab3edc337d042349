import { describe, expect, it } from 'vitest';
import { PayloadCache } from '../../src/server/store/payload-cache.js';

describe('PayloadCache', () => {
  it('keeps payloads by row id until their round is aggregated', () => {
    const cache = new PayloadCache(1000);
    cache.set(1, 7, new Uint8Array(100).fill(1));
    cache.set(2, 7, new Uint8Array(100).fill(2));
    cache.set(3, 8, new Uint8Array(100).fill(3));
    expect(cache.get(2)?.[0]).toBe(2);
    expect(cache.bytes).toBe(300);
    cache.forgetRounds(7);
    expect([cache.get(1), cache.get(2)]).toEqual([undefined, undefined]);
    expect(cache.get(3)?.[0]).toBe(3);
    expect(cache.bytes).toBe(100);
    // Taken, a payload leaves the cache with its bytes.
    expect(cache.take(3)?.[0]).toBe(3);
    expect([cache.get(3), cache.take(3), cache.bytes]).toEqual([undefined, undefined, 0]);
  });

  it('holds at most its bytes, letting the oldest go first, and never a payload larger than all of them', () => {
    const cache = new PayloadCache(250);
    for (let id = 1; id <= 4; id++) cache.set(id, 1, new Uint8Array(100));
    expect([1, 2, 3, 4].map((id) => cache.get(id) !== undefined)).toEqual([false, false, true, true]);
    expect(cache.bytes).toBe(200);
    cache.set(5, 1, new Uint8Array(300));
    expect(cache.get(5)).toBeUndefined();
    // Setting an id again replaces its payload and its bytes.
    cache.set(4, 1, new Uint8Array(50));
    expect(cache.bytes).toBe(150);
  });
});
