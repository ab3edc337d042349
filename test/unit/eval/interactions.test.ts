import { describe, expect, it } from 'vitest';
import { parseInteractions } from '../../../src/eval/interactions.js';

const sequencesText = ['u1 10 11 12 13', 'u2 11 14 10', '', 'u3 15 16 17 11 12'].join('\n');
const pairsText = [
  'u1 10',
  'u1 11',
  'u1 12',
  'u1 13',
  'u2\t11',
  'u2 14',
  'u2 10',
  'u3 15',
  'u3 16',
  'u3 17',
  'u3 11',
  'u3 12',
].join('\r\n');

function idsOf(text: string): Record<string, string[]> {
  const data = parseInteractions(text);
  return Object.fromEntries(
    data.users.map((user, u) => [user, Array.from(data.sequences[u] ?? [], (row) => data.items[row] ?? '?')]),
  );
}

describe('parseInteractions', () => {
  it('reads one line per user and one pair per line to the same sequences', () => {
    const expected = {
      u1: ['10', '11', '12', '13'],
      u2: ['11', '14', '10'],
      u3: ['15', '16', '17', '11', '12'],
    };
    expect(idsOf(sequencesText)).toEqual(expected);
    expect(idsOf(pairsText)).toEqual(expected);
    expect(parseInteractions(pairsText)).toEqual(parseInteractions(sequencesText));
  });

  it('gives every distinct item one row, shared by all users', () => {
    const data = parseInteractions(sequencesText);
    expect(data.items).toEqual(['10', '11', '12', '13', '14', '15', '16', '17']);
    expect(Array.from(data.sequences[1] ?? [])).toEqual([1, 4, 0]);
  });

  it('names the line that has a user but no item', () => {
    expect(() => parseInteractions('u1 1 2\nu2\nu3 4', 'tiny.txt')).toThrow(/tiny\.txt, line 2: expected "user item/u);
  });

  it('refuses a file without interactions', () => {
    expect(() => parseInteractions('\n  \n', 'empty.txt')).toThrow(/empty\.txt holds no interactions/u);
  });
});
