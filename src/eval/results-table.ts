import type { EvalResult } from './eval-report.js';
import { METRIC_NAMES } from './ranking-metrics.js';

/** The results as an aligned text table: mode, HR@5 … NDCG@20 (4 decimals), seconds (1 decimal). */
export function resultsTable(results: readonly EvalResult[]): string[] {
  const header = ['mode', ...METRIC_NAMES, 'seconds'];
  const rows = results.map((result) => [
    result.mode,
    ...METRIC_NAMES.map((name) => result[name].toFixed(4)),
    result.seconds.toFixed(1),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  // The mode column reads left-aligned, the numbers right-aligned so that their decimals line up.
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number),
      )
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}
