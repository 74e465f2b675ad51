/** Named defaults, each carrying its unit. `.env.example` documents the same values. */
import { Networks } from '@stellar/stellar-sdk';
import type { Sep12Config, Sep12UploadsConfig, Sep31AssetConfig } from './types.ts';

export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';
/** Relative to the current working directory. */
export const DEFAULT_DATA_DIR = './.mooring';
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_NETWORK = 'testnet';
export const SANDBOX_FILE = 'sandbox.json';

/** Config files looked for in the working directory when `MOORING_CONFIG` is unset, in this order. */
export const CONFIG_FILE_NAMES = [
  'mooring.config.json',
  'mooring.config.ts',
  'mooring.config.js',
  'mooring.config.mjs',
];

// SDF runs a public Stellar RPC on testnet only; on pubnet the operator names its provider.
export const NETWORKS = {
  testnet: {
    passphrase: Networks.TESTNET,
    horizonUrl: 'https://horizon-testnet.stellar.org',
    rpcUrl: 'https://soroban-testnet.stellar.org',
  },
  pubnet: { passphrase: Networks.PUBLIC, horizonUrl: 'https://horizon.stellar.org', rpcUrl: null },
} as const;

export const DEFAULT_EXECUTE_OUTGOING_INTERVAL_SECONDS = 10;
export const DEFAULT_POLL_OUTGOING_INTERVAL_SECONDS = 60;
export const DEFAULT_PAYOUT_DELAY_SECONDS = 0;
export const DEFAULT_RAILS_TIMEOUT_SECONDS = 20;
/** Business-server calls are on the path of a SEP request (and of a customer actor): keep them short. */
export const DEFAULT_BUSINESS_TIMEOUT_SECONDS = 5;
export const DEFAULT_BUSINESS_RETRIES = 1;
export const DEFAULT_EXPIRE_INTERVAL_SECONDS = 30;
export const DEFAULT_PAYOUT_LEASE_SECONDS = 120;
/** How long a transaction may wait in `pending_sender` for the sending anchor's payment: 24 h. */
export const DEFAULT_PAYMENT_DEADLINE_SECONDS = 86_400;
/** Stellar's own precision: no rounding beyond what the network does. */
export const DEFAULT_SIGNIFICANT_DECIMALS = 7;
/** JWTs are HMAC-signed; shorter secrets are guessable. */
export const MIN_JWT_SECRET_LENGTH = 32;

/** Applied key by key to an asset's `sep31` block. */
export const DEFAULT_SEP31: Sep31AssetConfig = {
  enabled: true,
  minAmount: '0',
  maxAmount: '922337203685.4775807',
  feeFixed: '0',
  feePercent: '0',
  fundingMethods: ['SEPA', 'SWIFT'],
  quotesSupported: false,
  quotesRequired: false,
};

/**
 * The demo asset's SEP-31 settings in sandbox mode (its code and keys come from `sandbox.json`). The sandbox
 * quotes it (SEP-38 against US dollars), so its SEP-31 side takes those quotes too.
 */
export const SANDBOX_SEP31: Sep31AssetConfig = {
  ...DEFAULT_SEP31,
  minAmount: '0.1',
  maxAmount: '1000000',
  quotesSupported: true,
};
export const SANDBOX_ASSET_CODE = 'USDC';

/** A firm SEP-38 quote holds this long unless `sep38.quoteExpirySeconds` says otherwise. */
export const DEFAULT_QUOTE_EXPIRY_SECONDS = 300;
/** Off-chain assets are mostly fiat: cents unless `significantDecimals` says otherwise. */
export const DEFAULT_OFF_CHAIN_DECIMALS = 2;
/** Sandbox quotes: every asset against US dollars at par, with a 1 % fee (the demo shows a non-trivial quote). */
export const SANDBOX_QUOTE_CURRENCY = 'iso4217:USD';
export const SANDBOX_QUOTE_FEE_PERCENT = '1';
export const SANDBOX_SIGNIFICANT_DECIMALS = 2;

/**
 * Caps on SEP-12 uploads: a file 5 MiB (the limit before caps were configurable); a request, an ID's two
 * sides and a proof of address at full size; a customer, a few documents but not every binary field at 5 MiB.
 */
export const DEFAULT_SEP12_UPLOADS: Sep12UploadsConfig = {
  maxFileBytes: 5 * 1024 * 1024,
  maxRequestBytes: 20 * 1024 * 1024,
  maxCustomerBytes: 30 * 1024 * 1024,
};

/** Used when the file has no `sep12.types` / `sep12.uploads`. */
export const DEFAULT_SEP12: Sep12Config = {
  uploads: DEFAULT_SEP12_UPLOADS,
  types: {
    'sep31-sender': {
      description: 'Sender of a SEP-31 payment',
      fields: ['first_name', 'last_name'],
    },
    'sep31-receiver': {
      description: 'Receiver of a SEP-31 payment: paid out to a bank account',
      fields: ['first_name', 'last_name', 'bank_account_number', 'bank_number'],
    },
  },
};
export const DEFAULT_WATCHER_SILENCE_SECONDS = 60;
/** `/ready` fails after this long without reaching Horizon (at least twice the silence timeout). */
export const DEFAULT_WATCHER_UNREACHABLE_READY_SECONDS = 120;
/** How often the Stellar RPC watcher polls `getEvents` once caught up (a ledger closes about every 5 s). */
export const DEFAULT_RPC_POLL_INTERVAL_SECONDS = 5;
export const DEFAULT_NATS_PREFIX = 'mooring';
/** A PostgreSQL connection not had within this fails the query (503) rather than hang while the server is down. */
export const DEFAULT_DATABASE_CONNECT_TIMEOUT_SECONDS = 5;
export const DEFAULT_PARTITIONS = 16;
/** A dead actor host's partitions are free this long after its last renewal. */
export const DEFAULT_ACTOR_LEASE_SECONDS = 6;
/** An HTTP command waits this long for its actor, then answers 503. */
export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 10;

/** A request (headers and body) must have fully arrived within this: slow bodies are cut off. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;
/** A socket with no traffic either way is closed (the viewer's live stream sends a heartbeat every 15 s). */
export const DEFAULT_CONNECTION_TIMEOUT_SECONDS = 60;
/** Fastify's own default, longer than the usual load balancer idle timeout (60 s). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS = 72;
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Fastify's own default: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
/** Per client address: a password-guessing budget, not a usage quota. */
export const DEFAULT_SIGN_IN_LIMIT = { max: 10, windowSeconds: 60 };
/** Per client address, challenges and tokens together (each sign-in is two requests). */
export const DEFAULT_SEP10_LIMIT = { max: 60, windowSeconds: 60 };
/** Per sending anchor account, every write route of SEP-31 and SEP-12 together. */
export const DEFAULT_WRITES_LIMIT = { max: 6000, windowSeconds: 60 };
