/**
 * Reads a price written for people: `"$1,299.00"`, `"1.299,00 €"`, `"EUR 89"`, `"89,5"`. The last
 * `.` or `,` followed by one or two digits at the end is the decimal mark; other marks group
 * thousands. Returns `undefined` when there is no number.
 */
export function parsePrice(value: string | undefined): number | undefined {
  // Digits with grouping marks; a space groups only when three digits follow ("1 299,00").
  const match = value?.match(/\d(?:[\d.,']|[\s\u00a0\u202f](?=\d{3}(?!\d)))*/u)?.[0];
  const number = match?.replace(/[^\d.,]/gu, '').replace(/[.,]+$/u, '');
  if (!number) return undefined;
  const decimal = /[.,](\d{1,2})$/u.exec(number);
  const whole = (decimal ? number.slice(0, decimal.index) : number).replace(/[.,]/gu, '');
  const price = Number(decimal ? `${whole}.${decimal[1]}` : whole);
  return Number.isFinite(price) ? price : undefined;
}
