// Prints one closing line, "N passed, N failed, N skipped", over the unit and browser test reports.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'test-reports';
let passed = 0;
let failed = 0;
let skipped = 0;

const unit = join(dir, 'unit.json');
if (existsSync(unit)) {
  const report = JSON.parse(readFileSync(unit, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}

const browser = join(dir, 'browser.json');
if (existsSync(browser)) {
  const { stats } = JSON.parse(readFileSync(browser, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
