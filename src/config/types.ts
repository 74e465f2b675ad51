/** The resolved configuration: every default applied, every value checked, deeply frozen. */

/** `custom` when the network passphrase is neither testnet's nor pubnet's (e.g. a local quickstart). */
export type StellarNetwork = 'testnet' | 'pubnet' | 'custom';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Sep31AssetConfig {
  readonly enabled: boolean;
  /** Canonical decimal strings (at most 7 decimal places). */
  readonly minAmount: string;
  readonly maxAmount: string;
  readonly feeFixed: string;
  /** Percent of the amount, 0-100, as a canonical decimal string. */
  readonly feePercent: string;
  readonly fundingMethods: readonly string[];
  readonly quotesSupported: boolean;
  readonly quotesRequired: boolean;
}

export interface AssetConfig {
  /** 1-12 letters and digits; never "native". */
  readonly code: string;
  /** G... */
  readonly issuer: string;
  /** G...: the account sending anchors pay into. */
  readonly distributionAccount: string;
  /** 0-7. */
  readonly significantDecimals: number;
  readonly sep31: Sep31AssetConfig;
}

export interface Sep12TypeConfig {
  readonly description: string;
  /** SEP-9 field names this customer type must provide. */
  readonly fields: readonly string[];
}

export interface Sep12Config {
  /** Keyed by customer type, e.g. `sep31-sender`, `sep31-receiver`. */
  readonly types: Readonly<Record<string, Sep12TypeConfig>>;
  readonly uploads: Sep12UploadsConfig;
}

/** A SEP-38 delivery method of an off-chain asset (`/info`'s `sell_delivery_methods` / `buy_delivery_methods`). */
export interface Sep38DeliveryMethod {
  readonly name: string;
  readonly description: string;
}

/** An off-chain asset SEP-38 quotes in, e.g. `iso4217:USD`. */
export interface Sep38OffChainAsset {
  /** `iso4217:XXX`. */
  readonly asset: string;
  readonly significantDecimals: number;
  /** ISO 3166-1 alpha-2 or 3166-2 codes; empty: not listed. */
  readonly countryCodes: readonly string[];
  /** How the anchor can take this asset from the client (empty: not listed). */
  readonly sellDeliveryMethods: readonly Sep38DeliveryMethod[];
  /** How the anchor can deliver this asset (for SEP-31, the receiver's payout rails). */
  readonly buyDeliveryMethods: readonly Sep38DeliveryMethod[];
}

/** A fixed rate of the reference rates integration: one direction of one pair. */
export interface Sep38Rate {
  /** SEP-38 asset ids: `stellar:CODE:ISSUER` (a configured asset) or `iso4217:XXX` (an off-chain asset). */
  readonly sellAsset: string;
  readonly buyAsset: string;
  /** Units of the sell asset per unit of the buy asset, spread included (decimal string). */
  readonly price: string;
  /** The fee in the sell asset: fixed plus percent of the sell amount (decimal strings). */
  readonly feeFixed: string;
  readonly feePercent: string;
}

export interface Sep38Config {
  /** A firm quote expires this long after it was given. */
  readonly quoteExpirySeconds: number;
  readonly offChainAssets: readonly Sep38OffChainAsset[];
  readonly rates: readonly Sep38Rate[];
}

/** Caps on the files of `PUT /customer`; over one, the request is a 413 and nothing of it is kept. */
export interface Sep12UploadsConfig {
  /** One file. */
  readonly maxFileBytes: number;
  /** All the files of one request. */
  readonly maxRequestBytes: number;
  /** All the files a customer has stored, across its binary fields (a new file of a field replaces the old). */
  readonly maxCustomerBytes: number;
}

export interface SendingAnchorConfig {
  readonly name: string;
  /** G... keys whose SEP-10 JWTs identify this sending anchor. */
  readonly signingKeys: readonly string[];
}

/** How payouts reach receivers: the built-in simulated bank, or the anchor's business server over HTTP. */
/** The anchor's business server: one base URL and one credential for every hook it answers. */
export interface BusinessServerConfig {
  /** Base URL, no trailing slash, e.g. `https://backoffice.example.com/mooring`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token: string | null;
  /** Per request. */
  readonly timeoutSeconds: number;
  /** Extra attempts of an idempotent call (GET, PUT, DELETE) that got no answer. */
  readonly retries: number;
  /** Sign every request with SIGNING_SECRET (`Signature: t=…, s=…`, like SEP-31 callbacks). */
  readonly sign: boolean;
}

/** Who answers a hook: the built-in reference, the integration module, or the business server. */
export type HookSource = 'reference' | 'module' | 'business';

export interface IntegrationsConfig {
  readonly business: BusinessServerConfig | null;
  /** Null: the module's part if it has one, else the business server if configured, else the reference. */
  readonly sep31: HookSource | null;
  readonly customers: HookSource | null;
  readonly rates: HookSource | null;
}

export type RailsConfig =
  | { readonly kind: 'reference'; readonly payoutDelaySeconds: number; readonly failureRate: number }
  | {
      readonly kind: 'http';
      readonly baseUrl: string;
      readonly timeoutSeconds: number;
      readonly authToken?: string;
    };

export interface WorkersConfig {
  readonly executeOutgoingIntervalSeconds: number;
  readonly pollOutgoingIntervalSeconds: number;
  readonly expireIntervalSeconds: number;
  /** A payout claim's lease: after a crash, the payout is retried (same key) once it expires. */
  readonly payoutLeaseSeconds: number;
}

export interface StellarConfig {
  readonly source: 'horizon' | 'rpc';
  /** Stellar RPC endpoint; required with `source: 'rpc'`. */
  readonly rpcUrl: string | null;
  /** The payment source's Horizon (`horizon`), or the Horizon to catch up from (`rpc`; null: none). */
  readonly horizonUrl: string | null;
  readonly rpcPollIntervalSeconds: number;
}

export interface WatcherConfig {
  readonly silenceTimeoutSeconds: number;
  readonly startFrom: 'now' | 'beginning';
  /** `/ready` fails once the watcher has not reached Horizon for this long (longer than the silence timeout). */
  readonly unreachableReadySeconds: number;
}

export interface MetricsConfig {
  readonly enabled: boolean;
  /** A separate /metrics listener (no auth) in every process; null: only the HTTP port's (operator token). */
  readonly port: number | null;
  readonly host: string;
}

export interface NatsConfig {
  /** Namespace on the NATS server: stream `<prefix>_events`, subjects `<prefix>.…`. */
  readonly prefix: string;
}

export interface DatabaseConfig {
  /** PostgreSQL: a connection not had within this fails the query instead of waiting for a server that is down. */
  readonly connectTimeoutSeconds: number;
}

export interface ActorsConfig {
  readonly partitions: number;
  readonly leaseSeconds: number;
  readonly commandTimeoutSeconds: number;
}

/** Which proxies may set `X-Forwarded-*`: none, all, or these addresses/CIDRs (Fastify's `trustProxy`). */
export type TrustProxy = boolean | readonly string[];

export interface HttpConfig {
  readonly requestTimeoutSeconds: number;
  readonly connectionTimeoutSeconds: number;
  readonly keepAliveTimeoutSeconds: number;
  readonly maxConnections: number;
  readonly bodyLimitBytes: number;
  readonly trustProxy: TrustProxy;
}

export interface RateLimitGroupConfig {
  readonly max: number;
  readonly windowSeconds: number;
}

/** Per process (in memory): with N HTTP instances a client gets up to N times each budget. */
export interface RateLimitConfig {
  readonly enabled: boolean;
  /** Operator token guesses (sign-ins, wrong Bearer tokens), per client address. */
  readonly signIn: RateLimitGroupConfig;
  /** SEP-10 challenges and tokens, per client address. */
  readonly sep10: RateLimitGroupConfig;
  /** SEP-31/SEP-12 writes, per authenticated account. */
  readonly writes: RateLimitGroupConfig;
}

export interface CallbacksConfig {
  /** Callback URLs on localhost / 127.0.0.1 are accepted (never on pubnet). */
  readonly allowLoopback: boolean;
}

/** Business events (docs/events.md): where the outbox relay delivers them. */
export interface EventsConfig {
  /** Published on NATS under `<prefix>.events.`; false with the in-process bus. */
  readonly nats: boolean;
  /** POSTed, signed, to this URL; null: no webhook. */
  readonly webhookUrl: string | null;
}

export interface RefundsConfig {
  /** `stellar`: Mooring signs and submits refunds; `business`: the business sends them and reports them. */
  readonly kind: 'stellar' | 'business';
  /** An over-payment's excess is refunded by itself, or after an operator's `approve_refund_excess`. */
  readonly excess: 'auto' | 'approve';
  /** S...: a signer of the distribution accounts (never logged); null with `kind: 'business'`. */
  readonly signerSecret: string | null;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** `null`: embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** `null`: in-process bus. */
  readonly natsUrl: string | null;
  readonly database: DatabaseConfig;
  readonly nats: NatsConfig;
  readonly actors: ActorsConfig;
  /** Absolute path. */
  readonly dataDir: string;
  /** Host with optional port, no scheme, e.g. `localhost:8000`. */
  readonly homeDomain: string;
  readonly network: StellarNetwork;
  readonly networkPassphrase: string;
  readonly horizonUrl: string;
  /** S...: the SEP-10 server key, also used to sign callbacks. */
  readonly signingSecret: string;
  /** G...: the public key of `signingSecret`. */
  readonly signingKey: string;
  readonly jwtSecret: string;
  readonly assets: readonly AssetConfig[];
  readonly sep12: Sep12Config;
  /** SEP-38 quotes (the reference rates integration); no rates: no quotes offered. */
  readonly sep38: Sep38Config;
  readonly sendingAnchors: readonly SendingAnchorConfig[];
  /** True only in sandbox mode with no `sendingAnchors`: any SEP-10 authenticated account may send. */
  readonly allowAnySendingAnchor: boolean;
  readonly rails: RailsConfig;
  readonly workers: WorkersConfig;
  readonly watcher: WatcherConfig;
  readonly metrics: MetricsConfig;
  /** Where payments are read from (Horizon or Stellar RPC). */
  readonly stellar: StellarConfig;
  /** stellar.toml `[DOCUMENTATION]` fields, e.g. `ORG_NAME`. */
  readonly documentation: Readonly<Record<string, string>>;
  readonly paymentDeadlineSeconds: number;
  /** Absolute path of the anchor's integration module, or null for the built-in reference integration. */
  readonly integration: string | null;
  /** Who answers each integration hook, and the business server (docs/business-http.md). */
  readonly integrations: IntegrationsConfig;
  readonly operatorToken: string | null;
  readonly http: HttpConfig;
  readonly rateLimit: RateLimitConfig;
  readonly callbacks: CallbacksConfig;
  readonly events: EventsConfig;
  readonly refunds: RefundsConfig;
  /**
   * True when a secret was generated (see `sandbox.json`), or the demo asset is served with no sendingAnchors
   * configured: a test setup, which may let any account send.
   */
  readonly sandbox: boolean;
  readonly logLevel: LogLevel;
  /** Absolute path of the config file read, or `null` when none. */
  readonly configFile: string | null;
  /** Things the caller must log loudly at start-up (sandbox keys, open access). */
  readonly warnings: readonly string[];
}
