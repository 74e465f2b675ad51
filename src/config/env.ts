/**
 * The scalar settings that several sources can set, and how each source is read. Precedence, highest
 * first: command-line overrides, then the environment, then the config file, then the defaults.
 */
import {
  checkBoolean,
  checkDatabaseUrl,
  checkHomeDomain,
  checkHttpUrl,
  checkJwtSecret,
  checkLogLevel,
  checkNatsPrefix,
  checkNatsUrl,
  checkNetworkName,
  checkPaymentSource,
  checkPort,
  checkPositiveSeconds,
  checkSecretSeed,
  checkSecretText,
  checkText,
  checkTrustProxy,
  type Check,
} from './checks.ts';
import { envKey, fileKey } from './errors.ts';
import type { LogLevel, TrustProxy } from './types.ts';

export interface Settings {
  configFile: string;
  port: number;
  host: string;
  databaseUrl: string;
  natsUrl: string;
  natsPrefix: string;
  dataDir: string;
  homeDomain: string;
  network: 'testnet' | 'pubnet';
  networkPassphrase: string;
  horizonUrl: string;
  paymentSource: 'horizon' | 'rpc';
  rpcUrl: string;
  signingSecret: string;
  refundSignerSecret: string;
  jwtSecret: string;
  executeOutgoingIntervalSeconds: number;
  pollOutgoingIntervalSeconds: number;
  operatorToken: string;
  logLevel: LogLevel;
  trustProxy: TrustProxy;
  businessUrl: string;
  businessToken: string;
  businessTimeoutSeconds: number;
  eventsNats: boolean;
  eventsWebhookUrl: string;
}

export type SettingName = keyof Settings;

interface SettingSpec<K extends SettingName> {
  /** The environment variable. */
  env: string;
  /** The key path in the config file, or `null` when only the environment can set it. */
  file: readonly string[] | null;
  check: Check<Settings[K]>;
}

export const SETTINGS: { readonly [K in SettingName]: SettingSpec<K> } = {
  configFile: { env: 'MOORING_CONFIG', file: null, check: checkText },
  port: { env: 'PORT', file: ['port'], check: checkPort },
  host: { env: 'HOST', file: ['host'], check: checkText },
  databaseUrl: { env: 'DATABASE_URL', file: ['databaseUrl'], check: checkDatabaseUrl },
  natsUrl: { env: 'NATS_URL', file: ['natsUrl'], check: checkNatsUrl },
  natsPrefix: { env: 'NATS_PREFIX', file: ['nats', 'prefix'], check: checkNatsPrefix },
  dataDir: { env: 'MOORING_DATA_DIR', file: ['dataDir'], check: checkText },
  homeDomain: { env: 'HOME_DOMAIN', file: ['homeDomain'], check: checkHomeDomain },
  network: { env: 'STELLAR_NETWORK', file: ['network'], check: checkNetworkName },
  networkPassphrase: { env: 'NETWORK_PASSPHRASE', file: ['networkPassphrase'], check: checkText },
  horizonUrl: { env: 'HORIZON_URL', file: ['horizonUrl'], check: checkHttpUrl },
  paymentSource: { env: 'STELLAR_PAYMENT_SOURCE', file: ['stellar', 'source'], check: checkPaymentSource },
  rpcUrl: { env: 'STELLAR_RPC_URL', file: ['stellar', 'rpcUrl'], check: checkHttpUrl },
  signingSecret: { env: 'SIGNING_SECRET', file: ['signingSecret'], check: checkSecretSeed },
  refundSignerSecret: {
    env: 'REFUND_SIGNER_SECRET',
    file: ['refunds', 'signerSecret'],
    check: checkSecretSeed,
  },
  jwtSecret: { env: 'JWT_SECRET', file: ['jwtSecret'], check: checkJwtSecret },
  executeOutgoingIntervalSeconds: {
    env: 'EXECUTE_OUTGOING_INTERVAL',
    file: ['workers', 'executeOutgoingIntervalSeconds'],
    check: checkPositiveSeconds,
  },
  pollOutgoingIntervalSeconds: {
    env: 'POLL_OUTGOING_INTERVAL',
    file: ['workers', 'pollOutgoingIntervalSeconds'],
    check: checkPositiveSeconds,
  },
  operatorToken: { env: 'OPERATOR_TOKEN', file: ['operatorToken'], check: checkSecretText },
  logLevel: { env: 'LOG_LEVEL', file: ['logLevel'], check: checkLogLevel },
  trustProxy: { env: 'TRUST_PROXY', file: ['http', 'trustProxy'], check: checkTrustProxy },
  businessUrl: { env: 'BUSINESS_SERVER_URL', file: ['integrations', 'business', 'url'], check: checkHttpUrl },
  businessToken: {
    env: 'BUSINESS_SERVER_TOKEN',
    file: ['integrations', 'business', 'token'],
    check: checkSecretText,
  },
  businessTimeoutSeconds: {
    env: 'BUSINESS_SERVER_TIMEOUT',
    file: ['integrations', 'business', 'timeoutSeconds'],
    check: checkPositiveSeconds,
  },
  eventsNats: { env: 'EVENTS_NATS', file: ['events', 'nats'], check: checkBoolean },
  eventsWebhookUrl: { env: 'EVENTS_WEBHOOK_URL', file: ['events', 'webhookUrl'], check: checkHttpUrl },
};

/** Every environment variable Mooring reads (each is documented in `.env.example`). */
export const ENV_VARS: readonly string[] = Object.values(SETTINGS).map((spec) => spec.env);

/** A checked value and the label of where it came from, for messages about combinations. */
export interface Sourced<T> {
  readonly value: T;
  readonly where: string;
}

/** What one source sets. */
export type Layer = { [K in SettingName]?: Sourced<Settings[K]> };

/** Command-line values (strings as parsed, or numbers), keyed like {@link Settings}. */
export type ConfigOverrides = { [K in SettingName]?: string | number };

export type Env = Readonly<Record<string, string | undefined>>;

function readLayer(lookup: (name: SettingName) => [raw: unknown, where: string] | undefined): Layer {
  const layer: Record<string, Sourced<unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const found = lookup(name);
    if (found === undefined) continue;
    const [raw, where] = found;
    layer[name] = { value: SETTINGS[name].check(raw, where), where };
  }
  return layer as Layer;
}

/** Reads the environment. An empty variable counts as unset. */
export function readEnv(env: Env): Layer {
  return readLayer((name) => {
    const variable = SETTINGS[name].env;
    const raw = env[variable];
    return raw === undefined || raw.trim() === '' ? undefined : [raw, envKey(variable)];
  });
}

/** Reads command-line overrides (labelled `option <name>`). */
export function readOverrides(overrides: ConfigOverrides): Layer {
  return readLayer((name) => {
    const raw = overrides[name];
    return raw === undefined ? undefined : [raw, `option ${name}`];
  });
}

/** Reads the scalar settings out of an already schema-checked config file. */
export function readFileSettings(file: object): Layer {
  return readLayer((name) => {
    const path = SETTINGS[name].file;
    if (path === null) return undefined;
    let raw: unknown = file;
    for (const key of path) raw = raw !== null && typeof raw === 'object' ? Reflect.get(raw, key) : undefined;
    return raw === undefined ? undefined : [raw, fileKey(path)];
  });
}

/** Stacks layers: later ones win. */
export function mergeLayers(...layers: Layer[]): Layer {
  const merged: Layer = {};
  for (const layer of layers) {
    for (const [name, sourced] of Object.entries(layer)) {
      if (sourced !== undefined) Object.assign(merged, { [name]: sourced });
    }
  }
  return merged;
}
