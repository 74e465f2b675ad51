/**
 * `loadConfig`: reads the config file and the environment once, checks everything, fills in sandbox keys on
 * testnet when they are missing, and returns one deeply frozen {@link Config}.
 */
import { Keypair } from '@stellar/stellar-sdk';
import { dirname, resolve } from 'node:path';
import {
  DEFAULT_ACTOR_LEASE_SECONDS,
  DEFAULT_BUSINESS_RETRIES,
  DEFAULT_BUSINESS_TIMEOUT_SECONDS,
  DEFAULT_COMMAND_TIMEOUT_SECONDS,
  DEFAULT_DATA_DIR,
  DEFAULT_NATS_PREFIX,
  DEFAULT_DATABASE_CONNECT_TIMEOUT_SECONDS,
  DEFAULT_PARTITIONS,
  DEFAULT_EXECUTE_OUTGOING_INTERVAL_SECONDS,
  DEFAULT_EXPIRE_INTERVAL_SECONDS,
  DEFAULT_PAYOUT_LEASE_SECONDS,
  DEFAULT_WATCHER_SILENCE_SECONDS,
  DEFAULT_WATCHER_UNREACHABLE_READY_SECONDS,
  DEFAULT_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_NETWORK,
  DEFAULT_POLL_OUTGOING_INTERVAL_SECONDS,
  DEFAULT_PORT,
  NETWORKS,
} from './defaults.ts';
import {
  mergeLayers,
  readEnv,
  readFileSettings,
  readOverrides,
  type ConfigOverrides,
  type Env,
  type Layer,
} from './env.ts';
import { ConfigError, fileKey } from './errors.ts';
import { locateConfigFile, readConfigFile } from './file.ts';
import {
  resolveAssets,
  resolveCallbacks,
  resolveRefunds,
  resolveHttp,
  resolvePaymentDeadline,
  resolveRateLimit,
  resolveRails,
  resolveSendingAnchors,
  resolveSep12,
  resolveSep38,
} from './resolve.ts';
import { resolveStellar } from './stellar.ts';
import { fillFromSandbox, isSandbox } from './sandbox.ts';
import type { ConfigFile } from './schema.ts';
import type { Config, IntegrationsConfig, StellarNetwork } from './types.ts';

/** Shorter operator tokens still work, with a warning at start-up: they can be guessed. */
const MIN_OPERATOR_TOKEN_LENGTH = 24;

export interface LoadConfigOptions {
  /** Defaults to `process.env`. Tests pass an explicit object. */
  env?: Env;
  /** Command-line values; they win over the environment and the file. */
  overrides?: ConfigOverrides;
  /** Base for relative paths (`MOORING_CONFIG`, `MOORING_DATA_DIR`) and config-file discovery. */
  cwd?: string;
}

/**
 * Loads, checks and freezes the configuration. Throws {@link ConfigError} (one line naming the key) on any
 * bad or missing value.
 *
 * @example
 * const config = await loadConfig();
 * for (const warning of config.warnings) logger.warn(warning);
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const envLayer = readEnv(env);
  const overrideLayer = readOverrides(options.overrides ?? {});

  const configFile = locateConfigFile(overrideLayer.configFile ?? envLayer.configFile, cwd);
  const file: ConfigFile = configFile === null ? {} : await readConfigFile(configFile);
  const settings = mergeLayers(readFileSettings(file), envLayer, overrideLayer);

  const port = settings.port?.value ?? DEFAULT_PORT;
  const dataDir = resolve(cwd, settings.dataDir?.value ?? DEFAULT_DATA_DIR);
  const { network, networkPassphrase, horizonUrl } = resolveNetwork(settings);
  // Check the whole file before sandbox mode writes anything.
  const givenAssets = file.assets === undefined ? undefined : resolveAssets(file.assets);
  const sep12 = resolveSep12(file.sep12);
  const sendingAnchors = resolveSendingAnchors(file.sendingAnchors ?? []);
  const rails = resolveRails(file.rails);
  const paymentDeadlineSeconds = resolvePaymentDeadline(file.paymentDeadlineSeconds);
  const callbacks = resolveCallbacks(file.callbacks, network);
  const defaultRpcUrl = network === 'custom' ? null : NETWORKS[network].rpcUrl;
  const stellar = resolveStellar(file.stellar, settings, horizonUrl, defaultRpcUrl);

  const secrets = await fillFromSandbox(
    {
      signingSecret: settings.signingSecret?.value,
      jwtSecret: settings.jwtSecret?.value,
      assets: givenAssets,
    },
    network,
    dataDir,
  );
  const warnings = [...secrets.warnings];
  if (givenAssets?.length === 0) {
    warnings.push('no assets configured: SEP-31 /info lists nothing and every transaction is refused');
  }
  const sandbox = isSandbox(secrets, sendingAnchors.length);
  const allowAnySendingAnchor = sandbox && sendingAnchors.length === 0;
  if (allowAnySendingAnchor) {
    warnings.push(
      'SANDBOX: no sendingAnchors configured: any SEP-10 authenticated Stellar account may send payments',
    );
  } else if (sendingAnchors.length === 0) {
    warnings.push('no sendingAnchors configured: every SEP-31 request will be refused');
  }
  if (callbacks.allowLoopback) {
    warnings.push(
      'LOOPBACK CALLBACKS ON (callbacks.allowLoopback): sending anchors may make Mooring POST to any port ' +
        'of localhost and 127.0.0.1 — only for a sending anchor on this machine, never on a shared host',
    );
  }
  const natsUrl = settings.natsUrl?.value ?? null;
  if (settings.eventsNats?.value === true && natsUrl === null) {
    warnings.push(
      `${settings.eventsNats.where} is true, but there is no NATS_URL: no business events on NATS`,
    );
  }
  const sep38 = resolveSep38(file.sep38, secrets.assets, sandbox);
  const refunds = resolveRefunds(
    file.refunds,
    settings.refundSignerSecret?.value ?? secrets.distributionSecret,
  );
  const watcher = resolveWatcher(file.watcher);
  const operatorToken = settings.operatorToken?.value;
  if (operatorToken !== undefined && operatorToken.length < MIN_OPERATOR_TOKEN_LENGTH) {
    warnings.push(
      `OPERATOR_TOKEN is shorter than ${MIN_OPERATOR_TOKEN_LENGTH} characters: anyone who guesses it sees every transaction`,
    );
  }

  return deepFreeze({
    port,
    host: settings.host?.value ?? DEFAULT_HOST,
    databaseUrl: settings.databaseUrl?.value ?? null,
    natsUrl,
    database: {
      connectTimeoutSeconds: file.database?.connectTimeoutSeconds ?? DEFAULT_DATABASE_CONNECT_TIMEOUT_SECONDS,
    },
    nats: { prefix: settings.natsPrefix?.value ?? DEFAULT_NATS_PREFIX },
    actors: {
      partitions: file.actors?.partitions ?? DEFAULT_PARTITIONS,
      leaseSeconds: file.actors?.leaseSeconds ?? DEFAULT_ACTOR_LEASE_SECONDS,
      commandTimeoutSeconds: file.actors?.commandTimeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS,
    },
    dataDir,
    homeDomain: settings.homeDomain?.value ?? `localhost:${port}`,
    network,
    networkPassphrase,
    horizonUrl,
    signingSecret: secrets.signingSecret,
    signingKey: Keypair.fromSecret(secrets.signingSecret).publicKey(),
    jwtSecret: secrets.jwtSecret,
    assets: secrets.assets,
    sep12,
    sep38,
    sendingAnchors,
    allowAnySendingAnchor,
    rails,
    workers: {
      executeOutgoingIntervalSeconds:
        settings.executeOutgoingIntervalSeconds?.value ?? DEFAULT_EXECUTE_OUTGOING_INTERVAL_SECONDS,
      pollOutgoingIntervalSeconds:
        settings.pollOutgoingIntervalSeconds?.value ?? DEFAULT_POLL_OUTGOING_INTERVAL_SECONDS,
      expireIntervalSeconds: file.workers?.expireIntervalSeconds ?? DEFAULT_EXPIRE_INTERVAL_SECONDS,
      payoutLeaseSeconds: file.workers?.payoutLeaseSeconds ?? DEFAULT_PAYOUT_LEASE_SECONDS,
    },
    watcher,
    metrics: {
      enabled: file.metrics?.enabled ?? true,
      port: file.metrics?.port ?? null,
      host: file.metrics?.host ?? settings.host?.value ?? DEFAULT_HOST,
    },
    stellar,
    documentation: { ...file.documentation },
    paymentDeadlineSeconds,
    integration:
      file.integration === undefined
        ? null
        : resolve(configFile === null ? cwd : dirname(configFile), file.integration),
    integrations: resolveIntegrations(file.integrations, settings),
    operatorToken: settings.operatorToken?.value ?? null,
    http: resolveHttp(file.http, settings.trustProxy?.value),
    rateLimit: resolveRateLimit(file.rateLimit),
    callbacks,
    events: {
      nats: natsUrl !== null && (settings.eventsNats?.value ?? true),
      webhookUrl: settings.eventsWebhookUrl?.value ?? null,
    },
    refunds,
    sandbox,
    logLevel: settings.logLevel?.value ?? DEFAULT_LOG_LEVEL,
    configFile,
    warnings,
  });
}

/** The business server (URL, token and timeout from the environment or the file) and each hook's source. */
function resolveIntegrations(file: ConfigFile['integrations'], settings: Layer): IntegrationsConfig {
  const url = settings.businessUrl?.value;
  const business =
    url === undefined
      ? null
      : {
          url,
          token: settings.businessToken?.value ?? null,
          timeoutSeconds: settings.businessTimeoutSeconds?.value ?? DEFAULT_BUSINESS_TIMEOUT_SECONDS,
          retries: file?.business?.retries ?? DEFAULT_BUSINESS_RETRIES,
          sign: file?.business?.sign ?? true,
        };
  for (const hook of ['sep31', 'customers', 'rates'] as const) {
    if (file?.[hook] === 'business' && business === null) {
      throw new ConfigError(
        fileKey(['integrations', hook]),
        'is "business" but no business server is configured (integrations.business.url or BUSINESS_SERVER_URL)',
      );
    }
  }
  return {
    business,
    sep31: file?.sep31 ?? null,
    customers: file?.customers ?? null,
    rates: file?.rates ?? null,
  };
}

/**
 * A quiet account reaches Horizon once per silence timeout (the reconnect's catch-up page), so `/ready`
 * must wait longer than that before it calls the watcher unable to reach Horizon.
 */
function resolveWatcher(watcher: ConfigFile['watcher']): Config['watcher'] {
  const silenceTimeoutSeconds = watcher?.silenceTimeoutSeconds ?? DEFAULT_WATCHER_SILENCE_SECONDS;
  const unreachableReadySeconds =
    watcher?.unreachableReadySeconds ??
    Math.max(DEFAULT_WATCHER_UNREACHABLE_READY_SECONDS, 2 * silenceTimeoutSeconds);
  if (unreachableReadySeconds <= silenceTimeoutSeconds) {
    throw new ConfigError(
      fileKey(['watcher', 'unreachableReadySeconds']),
      `must be longer than watcher.silenceTimeoutSeconds (${silenceTimeoutSeconds})`,
    );
  }
  return { silenceTimeoutSeconds, startFrom: watcher?.startFrom ?? 'now', unreachableReadySeconds };
}

/**
 * The passphrase decides the network: a passphrase of testnet or pubnet names it, any other is `custom`
 * (which needs an explicit Horizon URL). A name that contradicts the passphrase is an error.
 */
function resolveNetwork(settings: Layer): Pick<Config, 'network' | 'networkPassphrase' | 'horizonUrl'> {
  const named = settings.network?.value ?? DEFAULT_NETWORK;
  const networkPassphrase = settings.networkPassphrase?.value ?? NETWORKS[named].passphrase;
  const network: StellarNetwork =
    networkPassphrase === NETWORKS.pubnet.passphrase
      ? 'pubnet'
      : networkPassphrase === NETWORKS.testnet.passphrase
        ? 'testnet'
        : 'custom';
  if (settings.network !== undefined && network !== 'custom' && network !== named) {
    throw new ConfigError(
      settings.networkPassphrase?.where ?? 'config',
      `is the ${network} passphrase, but ${settings.network.where} says ${named}`,
    );
  }
  if (network === 'custom' && settings.horizonUrl === undefined) {
    throw new ConfigError(
      fileKey(['horizonUrl']),
      'is required with a custom network passphrase (set HORIZON_URL or "horizonUrl")',
    );
  }
  return { network, networkPassphrase, horizonUrl: settings.horizonUrl?.value ?? NETWORKS[named].horizonUrl };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
