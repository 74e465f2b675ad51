/**
 * The config file's shape as a TypeBox schema: JSON Schema at run time, the {@link ConfigFile} type at compile
 * time. It checks structure (types, required keys, unknown keys); the finer rules (Stellar keys, decimal
 * amounts, cross-field checks) live in `resolve.ts` so every message reads the same way.
 *
 * `expected` on a schema is our own annotation: the phrase used in an error for any value it rejects
 * ("must be <expected> (got …)"). `secret` keeps the rejected value out of the message.
 */
import { Type, type Static } from 'typebox';

const Decimal = Type.Union([Type.String(), Type.Number()], {
  expected: 'a decimal string with at most 7 decimal places',
});
const PublicKey = Type.String({ expected: 'a Stellar public key (G...)' });
const Seconds = Type.Number({ exclusiveMinimum: 0, expected: 'a positive number of seconds' });
const Text = Type.String({ minLength: 1, expected: 'a non-empty string' });

/** One rate-limit group: at most `max` requests per key in each window. */
const RateLimitGroup = Type.Object(
  {
    max: Type.Optional(Type.Integer({ minimum: 1, expected: 'a positive integer' })),
    windowSeconds: Type.Optional(Seconds),
  },
  { additionalProperties: false, expected: 'an object' },
);

export const Sep31AssetSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    minAmount: Type.Optional(Decimal),
    maxAmount: Type.Optional(Decimal),
    feeFixed: Type.Optional(Decimal),
    feePercent: Type.Optional(Decimal),
    fundingMethods: Type.Optional(
      Type.Array(Text, { minItems: 1, expected: 'a non-empty list of strings, e.g. ["SEPA", "SWIFT"]' }),
    ),
    quotesSupported: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    quotesRequired: Type.Optional(Type.Boolean({ expected: 'true or false' })),
  },
  { additionalProperties: false, expected: 'an object' },
);

export const AssetSchema = Type.Object(
  {
    code: Type.String({ expected: 'an asset code of 1-12 letters and digits' }),
    issuer: PublicKey,
    distributionAccount: PublicKey,
    significantDecimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, expected: 'an integer 0-7' })),
    sep31: Type.Optional(Sep31AssetSchema),
  },
  { additionalProperties: false, expected: 'an object' },
);

const Sep38DeliveryMethodSchema = Type.Object(
  { name: Text, description: Type.Optional(Type.String({ expected: 'a string' })) },
  { additionalProperties: false, expected: 'an object with a name and a description' },
);
const Sep38DeliveryMethods = Type.Array(Sep38DeliveryMethodSchema, {
  expected: 'a list of delivery methods, e.g. [{"name": "WIRE", "description": "Bank wire"}]',
});

export const Sep38Schema = Type.Object(
  {
    quoteExpirySeconds: Type.Optional(Seconds),
    offChainAssets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            asset: Type.String({ expected: 'an ISO 4217 asset id, e.g. "iso4217:USD"' }),
            significantDecimals: Type.Optional(
              Type.Integer({ minimum: 0, maximum: 7, expected: 'an integer 0-7' }),
            ),
            countryCodes: Type.Optional(
              Type.Array(Text, { expected: 'a list of country codes, e.g. ["US"]' }),
            ),
            sellDeliveryMethods: Type.Optional(Sep38DeliveryMethods),
            buyDeliveryMethods: Type.Optional(Sep38DeliveryMethods),
          },
          { additionalProperties: false, expected: 'an object' },
        ),
        { expected: 'a list of off-chain assets' },
      ),
    ),
    rates: Type.Optional(
      Type.Array(
        Type.Object(
          {
            sellAsset: Type.String({ expected: 'a SEP-38 asset id, e.g. "stellar:USDC:G..."' }),
            buyAsset: Type.String({ expected: 'a SEP-38 asset id, e.g. "iso4217:USD"' }),
            price: Decimal,
            feeFixed: Type.Optional(Decimal),
            feePercent: Type.Optional(Decimal),
          },
          { additionalProperties: false, expected: 'an object' },
        ),
        { expected: 'a list of rates' },
      ),
    ),
  },
  { additionalProperties: false, expected: 'an object' },
);

export const Sep12TypeSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ expected: 'a string' })),
    fields: Type.Optional(Type.Array(Text, { expected: 'a list of SEP-9 field names' })),
  },
  { additionalProperties: false, expected: 'an object' },
);

const ByteCount = Type.Integer({
  minimum: 1,
  maximum: 2147483647,
  expected: 'a number of bytes (1-2147483647)',
});

/** Caps on what `PUT /customer` stores (multipart files). */
export const Sep12UploadsSchema = Type.Object(
  {
    maxFileBytes: Type.Optional(ByteCount),
    maxRequestBytes: Type.Optional(ByteCount),
    maxCustomerBytes: Type.Optional(ByteCount),
  },
  { additionalProperties: false, expected: 'an object' },
);

export const SendingAnchorSchema = Type.Object(
  {
    name: Text,
    signingKeys: Type.Array(PublicKey, { minItems: 1, expected: 'a non-empty list of Stellar public keys' }),
  },
  { additionalProperties: false, expected: 'an object' },
);

/** Who answers one integration hook: the built-in reference, the integration module, or the business server. */
const HookSource = Type.Union([Type.Literal('reference'), Type.Literal('module'), Type.Literal('business')], {
  expected: '"reference", "module" or "business"',
});

export const ConfigFileSchema = Type.Object(
  {
    // Server keys; the environment overrides each of them.
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, expected: 'an integer 1-65535' })),
    host: Type.Optional(Text),
    databaseUrl: Type.Optional(Type.String({ expected: 'a postgres:// URL' })),
    natsUrl: Type.Optional(Type.String({ expected: 'a NATS URL, e.g. nats://127.0.0.1:4222' })),
    nats: Type.Optional(
      Type.Object(
        {
          /** Namespace of this deployment on the NATS server: stream `<prefix>_events`, subjects `<prefix>.…`. */
          prefix: Type.Optional(
            Type.String({ expected: 'a NATS prefix of 1-32 letters, digits, "_" or "-"' }),
          ),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    database: Type.Optional(
      Type.Object(
        {
          /** PostgreSQL: how long getting a connection may take before the query fails (503, or a retry). */
          connectTimeoutSeconds: Type.Optional(Seconds),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    actors: Type.Optional(
      Type.Object(
        {
          /** Bus partitions; every process of a deployment must agree (change only on a drained bus). */
          partitions: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 1024, expected: 'an integer 1-1024' }),
          ),
          /** A dead actor host's partitions are taken over this long after its last renewal. */
          leaseSeconds: Type.Optional(Seconds),
          /** How long an HTTP command waits for its actor before answering 503. */
          commandTimeoutSeconds: Type.Optional(Seconds),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    dataDir: Type.Optional(Text),
    logLevel: Type.Optional(Type.String({ expected: 'a log level' })),
    operatorToken: Type.Optional(Type.String({ minLength: 1, secret: true, expected: 'a non-empty string' })),
    // Anchor keys.
    homeDomain: Type.Optional(
      Type.String({ expected: 'a domain with optional port, e.g. "localhost:8000"' }),
    ),
    network: Type.Optional(
      Type.Union([Type.Literal('testnet'), Type.Literal('pubnet')], { expected: '"testnet" or "pubnet"' }),
    ),
    networkPassphrase: Type.Optional(Text),
    horizonUrl: Type.Optional(Type.String({ expected: 'an http(s) URL' })),
    signingSecret: Type.Optional(Type.String({ secret: true, expected: 'a Stellar secret seed (S...)' })),
    jwtSecret: Type.Optional(Type.String({ secret: true, expected: 'a string of at least 32 characters' })),
    assets: Type.Optional(Type.Array(AssetSchema, { expected: 'a list of assets' })),
    sep12: Type.Optional(
      Type.Object(
        {
          types: Type.Optional(
            Type.Record(Type.String(), Sep12TypeSchema, { expected: 'an object of SEP-12 customer types' }),
          ),
          uploads: Type.Optional(Sep12UploadsSchema),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    sep38: Type.Optional(Sep38Schema),
    sendingAnchors: Type.Optional(Type.Array(SendingAnchorSchema, { expected: 'a list of sending anchors' })),
    rails: Type.Optional(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('reference'), Type.Literal('http')], {
            expected: '"reference" or "http"',
          }),
          // reference (a simulated bank)
          payoutDelaySeconds: Type.Optional(
            Type.Number({ minimum: 0, expected: 'a non-negative number of seconds' }),
          ),
          failureRate: Type.Optional(
            Type.Number({ minimum: 0, maximum: 1, expected: 'a number from 0 to 1' }),
          ),
          // http (the anchor's business server; see docs/rails-http.md)
          baseUrl: Type.Optional(Type.String({ minLength: 1, expected: 'an http(s) URL' })),
          timeoutSeconds: Type.Optional(
            Type.Number({ exclusiveMinimum: 0, expected: 'a positive number of seconds' }),
          ),
          authToken: Type.Optional(
            Type.String({ minLength: 1, secret: true, expected: 'a non-empty string' }),
          ),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    workers: Type.Optional(
      Type.Object(
        {
          executeOutgoingIntervalSeconds: Type.Optional(Seconds),
          pollOutgoingIntervalSeconds: Type.Optional(Seconds),
          expireIntervalSeconds: Type.Optional(Seconds),
          /** How long a payout claim holds before another worker may retry it (same idempotency key). */
          payoutLeaseSeconds: Type.Optional(Seconds),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    documentation: Type.Optional(
      Type.Record(Type.String(), Type.String({ expected: 'a string' }), {
        expected: 'an object of stellar.toml DOCUMENTATION fields',
      }),
    ),
    paymentDeadlineSeconds: Type.Optional(Seconds),
    watcher: Type.Optional(
      Type.Object(
        {
          /** Reconnect when Horizon sends nothing for this long (Horizon sends no keep-alives). */
          silenceTimeoutSeconds: Type.Optional(Seconds),
          /** Where a fresh install (no stored cursor) starts: the latest payment, or the account's first. */
          startFrom: Type.Optional(
            Type.Union([Type.Literal('now'), Type.Literal('beginning')], {
              expected: '"now" or "beginning"',
            }),
          ),
          /** `/ready` answers 503 once the watcher has not reached Horizon for this long. */
          unreachableReadySeconds: Type.Optional(Seconds),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          /** Prometheus metrics: GET /metrics (operator token) on the HTTP port, and on `port` if set. */
          enabled: Type.Optional(Type.Boolean({ expected: 'true or false' })),
          /** A separate listener serving only /metrics, without auth, in every process (any role). */
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, expected: 'an integer 1-65535' })),
          /** Where that listener binds; default: `host`. */
          host: Type.Optional(Type.String({ minLength: 1, expected: 'a non-empty string' })),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    stellar: Type.Optional(
      Type.Object(
        {
          /** Where payments are read from: Horizon's payments, or Stellar RPC's transfer events. */
          source: Type.Optional(
            Type.Union([Type.Literal('horizon'), Type.Literal('rpc')], { expected: '"horizon" or "rpc"' }),
          ),
          rpcUrl: Type.Optional(Type.String({ expected: 'an http(s) URL' })),
          /** The payment source's Horizon (horizon), or the Horizon to catch up from (rpc). */
          horizonUrl: Type.Optional(Type.String({ expected: 'an http(s) URL' })),
          /** How often the RPC watcher asks for new events once caught up. */
          rpcPollIntervalSeconds: Type.Optional(Seconds),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    http: Type.Optional(
      Type.Object(
        {
          /** A request whose headers and body have not fully arrived by then is answered 408 and closed. */
          requestTimeoutSeconds: Type.Optional(Seconds),
          /** A socket with no traffic either way for this long is closed. */
          connectionTimeoutSeconds: Type.Optional(Seconds),
          /** How long an idle keep-alive connection stays open between requests. */
          keepAliveTimeoutSeconds: Type.Optional(Seconds),
          /** Connections over this many are closed as they arrive. */
          maxConnections: Type.Optional(Type.Integer({ minimum: 1, expected: 'a positive integer' })),
          /** Largest JSON or form body accepted; larger ones get 413. */
          bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1, expected: 'a positive integer' })),
          /** Which proxies may set X-Forwarded-For/-Proto/-Host: none, all, or these addresses/CIDRs. */
          trustProxy: Type.Optional(
            Type.Union([Type.Boolean(), Type.Array(Text, { minItems: 1 })], {
              expected: 'true, false or a list of addresses/CIDRs',
            }),
          ),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          /** false switches every limit off (e.g. behind a proxy that limits already). */
          enabled: Type.Optional(Type.Boolean({ expected: 'true or false' })),
          signIn: Type.Optional(RateLimitGroup),
          sep10: Type.Optional(RateLimitGroup),
          writes: Type.Optional(RateLimitGroup),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    callbacks: Type.Optional(
      Type.Object(
        {
          /** Callbacks to http(s)://localhost or 127.0.0.1 (a sending anchor on this machine); never on pubnet. */
          allowLoopback: Type.Optional(Type.Boolean({ expected: 'true or false' })),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    events: Type.Optional(
      Type.Object(
        {
          /** Business events on NATS (`<prefix>.events.…`); only with a NATS bus. Default true. */
          nats: Type.Optional(Type.Boolean({ expected: 'true or false' })),
          /** The business server's webhook: every business event is POSTed there, signed. */
          webhookUrl: Type.Optional(Type.String({ expected: 'an http(s) URL' })),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    refunds: Type.Optional(
      Type.Object(
        {
          /** `stellar`: Mooring signs and submits refunds; `business`: the business sends and reports them. */
          kind: Type.Optional(
            Type.Union([Type.Literal('stellar'), Type.Literal('business')], {
              expected: '"stellar" or "business"',
            }),
          ),
          /** An over-payment's excess goes back by itself (`auto`) or once an operator approves it. */
          excess: Type.Optional(
            Type.Union([Type.Literal('auto'), Type.Literal('approve')], { expected: '"auto" or "approve"' }),
          ),
          /** A signer of the distribution accounts (S...); env REFUND_SIGNER_SECRET. */
          signerSecret: Type.Optional(
            Type.String({ secret: true, expected: 'a Stellar secret seed (S...)' }),
          ),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
    /** Path of the anchor's integration module (default export: `{ sep31?, customers?, rates? }`), relative to the config file. */
    integration: Type.Optional(Type.String({ minLength: 1, expected: 'a module path' })),
    /** Where each integration hook is answered; see docs/business-http.md. */
    integrations: Type.Optional(
      Type.Object(
        {
          business: Type.Optional(
            Type.Object(
              {
                url: Type.Optional(Type.String({ minLength: 1, expected: 'an http(s) URL' })),
                token: Type.Optional(
                  Type.String({ minLength: 1, secret: true, expected: 'a non-empty string' }),
                ),
                timeoutSeconds: Type.Optional(
                  Type.Number({ exclusiveMinimum: 0, expected: 'a positive number of seconds' }),
                ),
                retries: Type.Optional(
                  Type.Integer({ minimum: 0, maximum: 5, expected: 'an integer from 0 to 5' }),
                ),
                sign: Type.Optional(Type.Boolean({ expected: 'true or false' })),
              },
              { additionalProperties: false, expected: 'an object' },
            ),
          ),
          sep31: Type.Optional(HookSource),
          customers: Type.Optional(HookSource),
          rates: Type.Optional(HookSource),
        },
        { additionalProperties: false, expected: 'an object' },
      ),
    ),
  },
  { additionalProperties: false, expected: 'an object' },
);

/** The config file's contents (JSON, or the default export of a JS/TS module). Every key is optional. */
export type ConfigFile = Static<typeof ConfigFileSchema>;
/** One entry of {@link ConfigFile.assets}. Amounts may be decimal strings or JSON numbers. */
export type AssetFile = Static<typeof AssetSchema>;
