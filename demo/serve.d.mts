/** Starts the demo server (sync API + shop pages + built SDK) on one origin. */
export function startDemo(options?: {
  port?: number;
  host?: string;
  dataDir?: string;
  roundSize?: number;
  siteSecret?: string;
  adminToken?: string;
}): Promise<{
  url: string;
  /** Signs shopper tokens (`signShopperToken`), as the shop's backend would. */
  siteSecret: string;
  /** The operator token: channel events, catalog and model publishing. */
  adminToken: string;
  close(): Promise<void>;
}>;
