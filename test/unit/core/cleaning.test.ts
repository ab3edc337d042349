import { describe, expect, it } from 'vitest';
import { Deduplicator, detectAutomation, FloodGuard, findAnomaly } from '../../../src/core/cleaning/index.js';
import type { TrackedEvent } from '../../../src/core/event.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const HUMAN_AGENTS = [
  CHROME,
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  // A phone brand that ends in "bot".
  'Mozilla/5.0 (Linux; Android 9; CUBOT P20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
];
const BOT_AGENTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse',
  'curl/8.5.0',
  'python-requests/2.31.0',
];
const human = {
  webdriver: false,
  userAgent: CHROME,
  brands: ['Chromium', 'Google Chrome'],
  languages: 2,
  outerWidth: 1280,
  outerHeight: 800,
};

describe('detectAutomation', () => {
  it('lets real browsers through', () => {
    for (const userAgent of HUMAN_AGENTS) {
      expect(detectAutomation({ ...human, userAgent }), userAgent).toEqual({ automated: false, reasons: [] });
    }
  });

  it('catches WebDriver, headless browsers, automation globals and crawlers', () => {
    expect(detectAutomation({ ...human, webdriver: true }).reasons).toEqual(['webdriver']);
    const headless = CHROME.replace('Chrome/', 'HeadlessChrome/');
    expect(detectAutomation({ ...human, userAgent: headless }).reasons).toEqual(['headless']);
    expect(detectAutomation({ ...human, brands: ['HeadlessChrome'] }).reasons).toEqual(['headless']);
    expect(detectAutomation({ ...human, automationGlobals: ['callPhantom'] }).reasons).toEqual(['automation-globals']);
    for (const userAgent of BOT_AGENTS) {
      expect(detectAutomation({ ...human, userAgent }).reasons, userAgent).toContain('bot-user-agent');
    }
    // Playwright's Chromium as it starts: both strong signals.
    expect(detectAutomation({ ...human, webdriver: true, userAgent: headless }).reasons).toEqual([
      'webdriver',
      'headless',
    ]);
  });

  it('needs two weak signals, which an odd but real browser can show alone', () => {
    expect(detectAutomation({ ...human, languages: 0 }).automated).toBe(false);
    expect(detectAutomation({ ...human, outerWidth: 0, outerHeight: 0 }).automated).toBe(false);
    expect(detectAutomation({ ...human, languages: 0, outerWidth: 0, outerHeight: 0 })).toEqual({
      automated: true,
      reasons: ['no-languages', 'no-window'],
    });
  });
});

describe('findAnomaly', () => {
  const now = Date.UTC(2026, 0, 1);
  const rules = { maxFutureMs: 5 * 60_000, maxAgeMs: 90 * 86_400_000, maxPrice: 1000, maxQuantity: 10 };
  const view = (price: number, time = now) => ({ type: 'view' as const, time, item: { id: 'a', price } });

  it('accepts believable events', () => {
    expect(findAnomaly(view(999, now + 4 * 60_000), now, rules)).toBeUndefined();
    expect(findAnomaly(view(10, now - 89 * 86_400_000), now, rules)).toBeUndefined();
  });

  it('rejects times far ahead of the clock or past retention', () => {
    expect(findAnomaly(view(10, now + 6 * 60_000), now, rules)).toMatch(/6 min ahead of the device clock/u);
    expect(findAnomaly(view(10, now + 3 * 365 * 86_400_000), now, rules)).toMatch(/1095 d ahead/u);
    expect(findAnomaly(view(10, now - 91 * 86_400_000), now, rules)).toMatch(/past the retention window/u);
  });

  it('rejects absurd prices and quantities wherever they are', () => {
    expect(findAnomaly(view(1001), now, rules)).toMatch(/^item\.price 1001 is above/u);
    const purchase = (price: number, quantity: number) => ({
      type: 'purchase' as const,
      time: now,
      orderId: 'o-1',
      items: [
        { item: { id: 'a', price: 5 }, quantity: 1 },
        { item: { id: 'b' }, quantity, price },
      ],
    });
    expect(findAnomaly(purchase(20, 2), now, rules)).toBeUndefined();
    expect(findAnomaly(purchase(5000, 2), now, rules)).toMatch(/^items\.1\.price 5000/u);
    expect(findAnomaly(purchase(20, 11), now, rules)).toMatch(/^items\.1\.quantity 11/u);
    expect(findAnomaly({ type: 'add_to_cart', time: now, item: { id: 'a' }, quantity: 50 }, now, rules)).toMatch(
      /^quantity 50/u,
    );
  });
});

describe('FloodGuard', () => {
  it('admits up to the rate, refuses a flood for as long as it lasts, then recovers', () => {
    const guard = new FloodGuard(5);
    const t = 1_000_000;
    expect([0, 10, 20, 30, 40].map((dt) => guard.admit(t + dt))).toEqual([true, true, true, true, true]);
    expect(guard.admit(t + 50)).toBe(false);
    // A loop that keeps going keeps being refused, even past the first second.
    for (let dt = 100; dt < 3000; dt += 100) expect(guard.admit(t + dt)).toBe(false);
    // Quiet for a second: admitted again.
    expect(guard.admit(t + 4000)).toBe(true);
  });

  it('admits a steady rate below the limit indefinitely', () => {
    const guard = new FloodGuard(5);
    for (let i = 0; i < 100; i++) expect(guard.admit(i * 250)).toBe(true);
  });
});

describe('Deduplicator', () => {
  const view = (id: string, itemId: string, time: number) =>
    ({
      id,
      type: 'view',
      time,
      item: { id: itemId },
      anonymousId: 'a',
      sessionId: 's',
      channel: 'web',
    }) as TrackedEvent;

  it('finds repeated ids and repeated views of one item within the window', () => {
    const dedupe = new Deduplicator(5000);
    expect(dedupe.check(view('e1', 'sku-1', 0))).toBeUndefined();
    expect(dedupe.check(view('e1', 'sku-1', 60_000))).toBe('same-id');
    expect(dedupe.check(view('e2', 'sku-1', 4999))).toBe('repeated-view');
    expect(dedupe.check(view('e3', 'sku-2', 1000))).toBeUndefined();
    // The window runs from the last accepted view, not from the refused repeat.
    expect(dedupe.check(view('e4', 'sku-1', 5000))).toBeUndefined();
    expect(dedupe.check(view('e5', 'sku-1', 9000))).toBe('repeated-view');
  });

  it('keeps every view when the window is 0, and learns what is already stored', () => {
    const off = new Deduplicator(0);
    expect(off.check(view('e1', 'sku-1', 0))).toBeUndefined();
    expect(off.check(view('e2', 'sku-1', 1))).toBeUndefined();
    const seeded = new Deduplicator(5000);
    seeded.remember([view('stored', 'sku-1', 0)]);
    expect(seeded.check(view('stored', 'sku-9', 0))).toBe('same-id');
    expect(seeded.check(view('reload', 'sku-1', 2000))).toBe('repeated-view');
  });

  it('does not treat other event types as repeated views', () => {
    const dedupe = new Deduplicator(5000);
    dedupe.check(view('e1', 'sku-1', 0));
    const click = { ...view('e2', 'sku-1', 100), type: 'click' } as TrackedEvent;
    expect(dedupe.check(click)).toBeUndefined();
  });
});
