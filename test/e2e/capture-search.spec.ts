import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

test('searches are recorded from the URL with the result count, and from search forms and fields, once each', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/find?*`, 'search-app.html', sdkTag('search'));
  const searches = async () =>
    (await storedEvents(page, 'search', 'search')).map(({ query, resultCount }) => ({ query, resultCount }));
  const expected: Array<{ query: string; resultCount?: number }> = [];

  // A result page's URL (`query` is one of the default parameters); the count shows a moment later.
  await page.goto(`${origin}/find?query=tent+2p&page=1`);
  await sdkLoaded(page);
  expected.push({ query: 'tent 2p', resultCount: 7 });
  await expect.poll(searches, FAST).toEqual(expected);

  // A form the page handles in place: recorded once it is clear the URL will not carry it.
  await page.fill('#instant-q', 'lamp');
  await page.press('#instant-q', 'Enter');
  expected.push({ query: 'lamp', resultCount: undefined });
  await expect.poll(searches, FAST).toEqual(expected);

  // A form whose app routes to ?q=: recorded once, from the URL, with the count. (Recorded from the
  // form as well, it would arrive a second later, during the next step.)
  await page.fill('#routed-q', 'Chair');
  await page.press('#routed-q', 'Enter');
  await page.waitForURL('**/find?q=Chair');
  expected.push({ query: 'Chair', resultCount: 1234 });
  await expect.poll(searches, FAST).toEqual(expected);

  // Enter in a search field outside any form.
  await page.fill('#bare-q', 'desk');
  await page.press('#bare-q', 'Enter');
  expected.push({ query: 'desk', resultCount: undefined });
  await expect.poll(searches, FAST).toEqual(expected);

  expect(problems.all).toEqual([]);
});
