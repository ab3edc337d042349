/**
 * `__metadata__` keys of a model weights payload (`GET`/`PUT /v1/model…`).
 * They belong next to `UPDATE_METADATA` in the core protocol; kept here until it has them.
 */
export const MODEL_METADATA = {
  /** Global model version of a downloaded payload. */
  version: 'omnipersona.version',
  /** Catalog version whose item order the rows follow. */
  catalogVersion: 'omnipersona.catalog_version',
  /** `ModelConfig` as JSON; optional on `PUT /v1/model`, where it defaults to the current config. */
  config: 'omnipersona.config',
} as const;
