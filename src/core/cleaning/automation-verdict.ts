/**
 * What the platform can observe about whether a person or a program drives the page. The browser
 * adapter reads these from `navigator` and `window`; the decision is {@link detectAutomation}'s.
 */
export interface AutomationSignals {
  /** `navigator.webdriver`: true under WebDriver, Puppeteer, Playwright and other CDP automation. */
  webdriver?: boolean;
  userAgent?: string;
  /** `navigator.userAgentData.brands`: `HeadlessChrome` in headless Chrome. */
  brands?: readonly string[];
  /** `navigator.languages.length`: 0 in some headless browsers. */
  languages?: number;
  /** `outerWidth`/`outerHeight`: 0 when there is no window at all (old headless modes). */
  outerWidth?: number;
  outerHeight?: number;
  /** Globals that automation tools leave on the page (`callPhantom`, `__nightmare`, `domAutomation`, …). */
  automationGlobals?: readonly string[];
}

/** Whether the page looks driven by a program, and why. */
export interface AutomationVerdict {
  automated: boolean;
  /** The signals that decided it; empty when the page looks human. */
  reasons: string[];
}

/**
 * Crawlers and HTTP tools by name. Bots that follow convention put a contact URL (`+http://…`) in
 * their user agent; the others are listed. Standalone words only (`bot`, not `CUBOT`, a phone brand).
 */
const BOT_USER_AGENT = new RegExp(
  [
    String.raw`\+https?://`,
    String.raw`\b(?:bot|crawler|spider|scraper)\b`,
    '(?:google|bing|yandex|baidu|duckduck|apple|ahrefs|semrush|mj12|dot|petal|sogou|seznam|facebook|twitter|linkedin|slack|discord|telegram|whatsapp|pinterest|byte|gpt|claude|perplexity|cc|amazon|yahoo)(?:bot|spider|crawler|externalhit)',
    'slurp',
    'lighthouse',
    'pagespeed',
    'gtmetrix',
    'pingdom',
    'uptimerobot',
    'python-(?:requests|urllib)',
    String.raw`\bcurl/`,
    String.raw`\bwget/`,
    'go-http-client',
    'okhttp',
    String.raw`\bjava/`,
    'libwww',
    'httpclient',
    String.raw`\baxios/`,
    'node-fetch',
    'undici',
    'phantomjs',
    'selenium',
    'puppeteer',
    'playwright',
  ].join('|'),
  'iu',
);

const HEADLESS = /headless/iu;

/**
 * Decides whether events from this page come from automation: tests, crawlers, scrapers, uptime
 * monitors. One strong signal decides (WebDriver, a headless or bot user agent, automation globals);
 * weak signals, which an odd but real browser can show on its own, need to come in pairs.
 */
export function detectAutomation(signals: AutomationSignals): AutomationVerdict {
  const strong: string[] = [];
  if (signals.webdriver === true) strong.push('webdriver');
  const userAgent = signals.userAgent ?? '';
  if (HEADLESS.test(userAgent) || signals.brands?.some((brand) => HEADLESS.test(brand))) strong.push('headless');
  if (BOT_USER_AGENT.test(userAgent)) strong.push('bot-user-agent');
  if ((signals.automationGlobals?.length ?? 0) > 0) strong.push('automation-globals');

  const weak: string[] = [];
  if (signals.languages === 0) weak.push('no-languages');
  if (signals.outerWidth === 0 && signals.outerHeight === 0) weak.push('no-window');
  if (userAgent.trim() === '') weak.push('no-user-agent');

  const reasons = [...strong, ...(strong.length > 0 || weak.length >= 2 ? weak : [])];
  return { automated: reasons.length > 0, reasons };
}
