import type { Page } from '@playwright/test';

/** What went wrong in a page, collected while a test runs. */
export interface PageProblems {
  /** Uncaught errors, failed responses (4xx/5xx), console errors and warnings, in order. */
  all: string[];
  /** Console warnings only. */
  warnings: string[];
  /** Uncaught errors only. */
  pageErrors: string[];
}

/** Starts collecting a page's problems; call before the page loads. */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { all: [], warnings: [], pageErrors: [] };
  page.on('pageerror', (error) => {
    problems.pageErrors.push(error.message);
    problems.all.push(`uncaught: ${error.message}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.all.push(`${response.status()} ${response.url()}`);
  });
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('Failed to load resource')) return; // reported with its URL above
    if (message.type() === 'warning') problems.warnings.push(text);
    if (message.type() === 'error' || message.type() === 'warning') problems.all.push(`${message.type()}: ${text}`);
  });
  return problems;
}
