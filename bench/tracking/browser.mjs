import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { findChromium } from '../../scripts/find-chromium.mjs';

// Keeps Chromium's own background traffic (updates, sync, QUIC probes) off the 2-core machine.
const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * A fresh Chromium, found as the browser tests find it (OMNIPERSONA_CHROMIUM, CHROMIUM_PATH, system).
 * `args` are added to the bench's own flags (the ML bench adds `--enable-unsafe-webgpu`).
 * @param {{ args?: string[] }} [options]
 */
export async function launchChromium({ args = [] } = {}) {
  const executablePath = await findChromium();
  if (!executablePath) {
    throw new Error('The benchmarks need Chromium: set OMNIPERSONA_CHROMIUM=/path/to/chromium or install one.');
  }
  return chromium.launch({ executablePath, args: [...ARGS, ...args] });
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens `url` in a fresh context (empty storage) and waits for the page's tracker to be ready.
 * Records every script and binary the page fetches, with its gzip -9 size, and every page error.
 */
export async function openBenchPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const responses = [];
  const problems = [];
  page.on('response', (response) => {
    if (/\.(m?js|wasm)$/u.test(new URL(response.url()).pathname)) responses.push(readFetched(response));
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  await withTimeout(page.goto(url), 30_000, `Loading ${url}`);
  await withTimeout(
    page.waitForFunction(() => window.bench),
    30_000,
    `The bench script of ${url}`,
  );
  const { crossOriginIsolated } = await withTimeout(
    page.evaluate(() => window.bench.ready()),
    30_000,
    `The tracker on ${url} getting ready`,
  );
  if (!crossOriginIsolated) {
    throw new Error(`${url} is not cross-origin isolated: performance.now() would tick in 100 µs steps`);
  }
  return {
    page,
    problems,
    /** The scripts fetched so far: path, raw bytes and gzip -9 bytes, each path once. */
    async fetched() {
      const byPath = new Map((await Promise.all(responses)).filter(Boolean).map((file) => [file.path, file]));
      return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
    },
    close: () => context.close(),
  };
}

async function readFetched(response) {
  try {
    const body = await response.body();
    const { pathname } = new URL(response.url());
    return { path: pathname, status: response.status(), bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  } catch {
    // The page went away before the body was read; the same file is read on another run.
    return undefined;
  }
}
