import type { Personalizer } from '../../src/core/personalizer/personalizer.js';

declare global {
  interface Window {
    omnipersona?: ((...args: unknown[]) => unknown) & Partial<Personalizer>;
  }
}
