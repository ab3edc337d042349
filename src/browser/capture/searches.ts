import type { CaptureContext, CapturePart } from './capture-context.js';
import type { ResolvedCapture } from './capture-options.js';
import { text } from './clean-item.js';
import { parsePrice } from './parse-price.js';
import { readSelector } from './read-selector.js';
import type { ScanScheduler } from './scan-scheduler.js';

/** How long a result page may take to show its result count. */
const RESULT_COUNT_WAIT_MS = 3000;
/** How long a search form handled by the page's script has to put its query in the URL. */
const FORM_TO_URL_MS = 1000;

/**
 * `search` events from the URL of search pages (`?q=…`, with the result count when configured and
 * shown) and from search forms (submit, or Enter in a search field outside a form). A form whose
 * submission loads a URL carrying the query is left to that page, which knows the result count; a
 * form handled by the page's script waits a moment for the app to put the query in the URL.
 */
export function captureSearches(
  context: CaptureContext,
  options: NonNullable<ResolvedCapture['search']>,
  scheduler: ScanScheduler,
): CapturePart {
  let pending: { query: string; timer: ReturnType<typeof setTimeout> } | undefined;
  const queryIn = (url: URL) => {
    if (options.pages.length > 0 && !options.pages.some((match) => match(url))) return undefined;
    return options.params.map((name) => text(url.searchParams.get(name), 500)).find(Boolean);
  };
  const settle = () => {
    if (!pending) return;
    clearTimeout(pending.timer);
    context.search(pending.query);
    pending = undefined;
  };

  const submitted = (field: HTMLInputElement, navigates: boolean) => {
    const query = text(field.value, 500);
    if (!query) return;
    const form = field.form;
    // A plain GET form loads the result page, whose URL carries the query.
    if (navigates && form?.method === 'get' && options.params.includes(field.name) && form.target !== '_blank') return;
    if (navigates) return context.search(query);
    settle();
    pending = { query, timer: setTimeout(context.guard(settle, 'search'), FORM_TO_URL_MS) };
  };

  context.listen(
    document,
    'submit',
    (event) => {
      const form = event.target;
      const field = form instanceof HTMLFormElement ? form.querySelector(options.inputs) : null;
      if (!(field instanceof HTMLInputElement)) return;
      // Whether the page's script handles the submission is known once every listener has run.
      setTimeout(context.guard(() => submitted(field, !event.defaultPrevented), 'search'));
    },
    'search',
  );
  context.listen(
    document,
    'keydown',
    (event) => {
      const field = event.target;
      if ((event as KeyboardEvent).key !== 'Enter' || !(field instanceof HTMLInputElement) || field.form) return;
      if (field.matches(options.inputs)) submitted(field, false);
    },
    'search',
  );
  context.onStop(() => clearTimeout(pending?.timer));

  return {
    enter(visit) {
      // The page's script put the form's query in the URL: the result page records it, with its count.
      if (pending && queryIn(visit.url)?.toLowerCase() === pending.query.toLowerCase()) {
        clearTimeout(pending.timer);
        pending = undefined;
      }
    },
    scan(visit) {
      const query = queryIn(visit.url);
      if (!query || visit.done.has('url-search')) return;
      const shown = options.resultCount ? readSelector(options.resultCount) : undefined;
      if (options.resultCount && shown === undefined && visit.age < RESULT_COUNT_WAIT_MS) {
        scheduler.after(RESULT_COUNT_WAIT_MS - visit.age);
        return;
      }
      visit.done.add('url-search');
      const count = parsePrice(shown);
      context.search(query, count !== undefined && Number.isInteger(count) ? count : undefined);
    },
    recordPending: settle,
  };
}
