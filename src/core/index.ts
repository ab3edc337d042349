/**
 * The platform-free core of OmniPersona: event schema, features, ranking, the model's shape and the
 * sync protocol. It imports nothing from the DOM, Node or TF.js; platforms plug in through `adapters`.
 */
export type {
  EventLog,
  IdleScheduler,
  KeyValueStore,
  Transport,
  TransportRequest,
  TransportResponse,
} from './adapters.js';
export { Catalog, type CatalogItem, toCatalogItem, UNKNOWN_CATEGORY } from './catalog.js';
export * from './cleaning/index.js';
export {
  CONSENT_TIERS,
  type ConsentCap,
  type ConsentCapSource,
  type ConsentTier,
  capConsent,
  consentAllows,
  consentCap,
  isConsentTier,
  type PrivacySignals,
} from './consent.js';
export { OmniPersonaError, type OmniPersonaErrorCode } from './errors.js';
export {
  type Channel,
  type EventType,
  type ItemInput,
  type PageContext,
  parseTrackInput,
  type TrackedEvent,
  type TrackInput,
} from './event.js';
export { EVENT_WEIGHTS, historyInput, itemSteps, trainingExamples } from './features/history.js';
export { computeProfile, PROFILE_FEATURES, type Profile, profileFeatures } from './features/profile.js';
export { MemoryEventLog, MemoryKeyValueStore } from './memory-storage.js';
export type {
  BackendName,
  BackendPreference,
  HistoryInput,
  ItemFeatures,
  ModelRuntime,
  TrainingExample,
  TrainOptions,
  TrainReport,
} from './model/model-runtime.js';
export { checkWeights, initialWeights, type ModelConfig, modelSpec } from './model/model-spec.js';
export * from './model/weights.js';
export { createCorePersonalizer, type PersonalizerPlatform } from './personalizer/create-core-personalizer.js';
export {
  type CleaningOptions,
  DEFAULT_OPTIONS,
  type PersonalizerOptions,
  type RetentionOptions,
} from './personalizer/options.js';
export type { Personalizer, PersonalizerEvents, PersonalizerStatus, SyncReport } from './personalizer/personalizer.js';
export { rankItems } from './ranking.js';
export {
  parseRecommendRequest,
  type Recommendation,
  type RecommendationKind,
  type RecommendRequest,
} from './recommend-request.js';
export * from './sync/protocol.js';
export { SyncClient } from './sync/sync-client.js';
export { decodeTensors, type EncodedTensors, encodeTensors, type WireDtype } from './sync/tensor-codec.js';
