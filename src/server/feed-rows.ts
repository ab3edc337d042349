import { parse as parseCsv } from 'csv-parse/sync';
import { OmniPersonaError } from '../core/errors.js';

/**
 * The rows of a CSV feed with a header row, each as an object by column name (cells trimmed, empty
 * lines and a byte-order mark skipped).
 * @throws OmniPersonaError `INVALID_REQUEST` with `notCsv`'s message for what the parser refused.
 */
export function csvRecords(text: string, notCsv: (reason: string) => string): Array<Record<string, string>> {
  try {
    return parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new OmniPersonaError('INVALID_REQUEST', notCsv(reasonOf(error)));
  }
}

/**
 * The values of a JSON-lines feed, one per non-empty line.
 * @throws OmniPersonaError `INVALID_REQUEST` with `notJson`'s message for the first line that is not JSON (from 1).
 */
export function jsonLines(text: string, notJson: (line: number, reason: string) => string): unknown[] {
  const values: unknown[] = [];
  for (const [index, line] of text.split(/\r?\n/u).entries()) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      throw new OmniPersonaError('INVALID_REQUEST', notJson(index + 1, reasonOf(error)));
    }
  }
  return values;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
