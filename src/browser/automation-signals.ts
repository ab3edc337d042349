import type { AutomationSignals } from '../core/cleaning/index.js';

/** Globals that automation tools and headless engines leave on `window`. */
const AUTOMATION_GLOBALS = [
  'callPhantom',
  '_phantom',
  '__nightmare',
  'domAutomation',
  'domAutomationController',
  '_selenium',
  '__selenium_unwrapped',
  '__webdriver_evaluate',
  '__driver_evaluate',
  '__webdriver_script_fn',
  '__fxdriver_unwrapped',
  '_Selenium_IDE_Recorder',
  'Cypress',
];

/** What the page can see of automation; `detectAutomation` in the core decides. */
export function readAutomationSignals(): AutomationSignals {
  const nav = navigator as Navigator & { userAgentData?: { brands?: Array<{ brand: string }> } };
  const scope = window as unknown as Record<string, unknown>;
  const globals = AUTOMATION_GLOBALS.filter((name) => scope[name] !== undefined);
  if (document.documentElement?.hasAttribute('webdriver')) globals.push('html[webdriver]');
  return {
    webdriver: nav.webdriver === true,
    userAgent: nav.userAgent,
    brands: nav.userAgentData?.brands?.map((entry) => entry.brand) ?? [],
    languages: nav.languages?.length ?? 0,
    outerWidth: window.outerWidth,
    outerHeight: window.outerHeight,
    automationGlobals: globals,
  };
}
