/** Starts the demo server (sync API + shop pages + built SDK) on one origin. */
export function startDemo(options?: { port?: number; host?: string; dataDir?: string; roundSize?: number }): Promise<{
  url: string;
  close(): Promise<void>;
}>;
