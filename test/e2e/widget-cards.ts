import type { Page } from '@playwright/test';
import { expect } from './demo-server.js';

/** The item ids of the `#for-you` widget's cards, once it is ready, in order. */
export async function forYou(page: Page): Promise<string[]> {
  const widget = page.locator('#for-you[data-omnipersona-state="ready"]');
  await expect(widget).toBeVisible();
  return widget
    .locator('[data-omnipersona-card]')
    .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-omnipersona-card') ?? ''));
}
