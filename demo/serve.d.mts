/** What {@link startDemo} takes; every option has a default. */
export interface DemoOptions {
  port?: number;
  host?: string;
  /** The embedded database's folder. @default '.omnipersona/demo' */
  dataDir?: string;
  /** Updates per federated round: 1 makes every device update a new version. */
  roundSize?: number;
  siteSecret?: string;
  adminToken?: string;
  /** The folder served at `/`. @default the demo's own pages */
  pages?: string;
  /** The catalog file imported into a fresh data folder. @default demo/data/catalog.json */
  catalog?: string;
  /** A model file to publish into a fresh data folder; the demo's trained model for its own catalog. */
  model?: string;
  /**
   * Publish co-visits counted from the demo's simulated shoppers, when the catalog has none.
   * @default true for the demo's own catalog
   */
  coVisits?: boolean;
}

/** The demo's catalog and its trained global model. */
export const DEMO_CATALOG: string;
export const DEMO_MODEL: string;

/** Starts the demo server (sync API + pages + built SDK + the shop backend's calls) on one origin. */
export function startDemo(options?: DemoOptions): Promise<{
  url: string;
  /** Signs shopper tokens (`signShopperToken`), as the shop's backend would. */
  siteSecret: string;
  /** The operator token: channel events, catalog and model publishing. */
  adminToken: string;
  close(): Promise<void>;
}>;
