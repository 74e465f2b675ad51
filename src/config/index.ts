/** Mooring's configuration: the only module that reads the environment or the config file. */
export { loadConfig, type LoadConfigOptions } from './load.ts';
export { defineConfig } from './define-config.ts';
export { ConfigError } from './errors.ts';
export { redactConfig } from './redact.ts';
export { ENV_VARS, type ConfigOverrides, type Env } from './env.ts';
export { ConfigFileSchema, type AssetFile, type ConfigFile } from './schema.ts';
export { canonicalDecimal, MAX_STELLAR_AMOUNT, toStroops } from './decimal.ts';
export { DEFAULT_SEP12_UPLOADS } from './defaults.ts';
export { LOG_LEVELS } from './types.ts';
export type {
  AssetConfig,
  BusinessServerConfig,
  CallbacksConfig,
  HookSource,
  IntegrationsConfig,
  Config,
  HttpConfig,
  LogLevel,
  RailsConfig,
  RateLimitConfig,
  RateLimitGroupConfig,
  RefundsConfig,
  SendingAnchorConfig,
  Sep12Config,
  Sep12TypeConfig,
  Sep12UploadsConfig,
  Sep31AssetConfig,
  Sep38Config,
  Sep38DeliveryMethod,
  Sep38OffChainAsset,
  Sep38Rate,
  StellarNetwork,
  TrustProxy,
  WorkersConfig,
  WatcherConfig,
} from './types.ts';
