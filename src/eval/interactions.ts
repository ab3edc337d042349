import { readFile } from 'node:fs/promises';
import { OmniPersonaError } from '../core/errors.js';

/** A data set of who interacted with what, in time order, with ids mapped to dense rows. */
export interface Interactions {
  /** User ids, in order of first appearance. */
  users: string[];
  /** Item ids; an item's model row is its index here (order of first appearance). */
  items: string[];
  /** Each user's item rows, oldest first; `sequences[u]` belongs to `users[u]`. */
  sequences: Int32Array[];
}

/**
 * Parses a data set in either of the two layouts the public sets come in: one line per user
 * (`user item1 item2 ...`, oldest first) or one `user item` pair per line, grouped by user in time
 * order. Both are read by one rule, "the line's items follow the user's earlier ones", so a pair
 * file is a sequence file whose lines hold one item each, and both give the same sequences.
 * Tokens are separated by spaces or tabs; blank lines are skipped.
 *
 * @throws OmniPersonaError `INVALID_REQUEST` for a line without an item, or when there is no line at all.
 */
export function parseInteractions(text: string, source = 'data'): Interactions {
  const users: string[] = [];
  const items: string[] = [];
  const userRows = new Map<string, number>();
  const itemRows = new Map<string, number>();
  const sequences: number[][] = [];
  const lines = text.split(/\r?\n/u);
  for (const [index, line] of lines.entries()) {
    const tokens = line.trim().split(/\s+/u);
    const [user, ...lineItems] = tokens;
    if (user === undefined || user === '') continue;
    if (lineItems.length === 0) {
      throw new OmniPersonaError(
        'INVALID_REQUEST',
        `${source}, line ${index + 1}: expected "user item [item ...]" separated by spaces, received ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    let userRow = userRows.get(user);
    if (userRow === undefined) {
      userRow = users.push(user) - 1;
      userRows.set(user, userRow);
      sequences.push([]);
    }
    const sequence = sequences[userRow] as number[];
    for (const item of lineItems) {
      let itemRow = itemRows.get(item);
      if (itemRow === undefined) {
        itemRow = items.push(item) - 1;
        itemRows.set(item, itemRow);
      }
      sequence.push(itemRow);
    }
  }
  if (users.length === 0) {
    throw new OmniPersonaError('INVALID_REQUEST', `${source} holds no interactions: expected lines of "user item ..."`);
  }
  return { users, items, sequences: sequences.map((sequence) => Int32Array.from(sequence)) };
}

/**
 * Reads and parses a data file (see {@link parseInteractions}).
 * @throws OmniPersonaError `INVALID_REQUEST` when the file cannot be read or is not a data set.
 */
export async function readInteractions(path: string): Promise<Interactions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OmniPersonaError('INVALID_REQUEST', `Cannot read data file ${path}: ${reason}`, { cause: error });
  }
  return parseInteractions(text, path);
}
