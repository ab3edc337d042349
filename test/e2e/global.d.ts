import type { Personalizer } from '../../src/core/personalizer/personalizer.js';

declare global {
  interface Window {
    omnipersona?: ((...args: unknown[]) => unknown) & Partial<Personalizer>;
    /** The demo app's personalizer (demo/app/main.js), made with the npm package. */
    op?: Personalizer;
  }
}
