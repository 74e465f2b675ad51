/**
 * Sandbox keys: generated once, kept in `<dataDir>/sandbox.json` (mode 0600) and reused on every later
 * start, so a fresh checkout serves a working testnet anchor with no setup. Never used on pubnet.
 */
import { Keypair } from '@stellar/stellar-sdk';
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkJwtSecret, checkSecretSeed } from './checks.ts';
import { SANDBOX_ASSET_CODE, SANDBOX_FILE, SANDBOX_SEP31, SANDBOX_SIGNIFICANT_DECIMALS } from './defaults.ts';
import { ConfigError, fileKey } from './errors.ts';
import type { AssetConfig, StellarNetwork } from './types.ts';

export interface Sandbox {
  /** Absolute path of `sandbox.json`. */
  readonly path: string;
  /** True when this call generated the file. */
  readonly created: boolean;
  readonly signingSecret: string;
  readonly jwtSecret: string;
  readonly issuer: string;
  readonly distributionAccount: string;
  /** The distribution account's key: in sandbox mode it signs refunds. */
  readonly distributionSecret: string;
  /** Problems found and repaired (e.g. a file readable by others). */
  readonly warnings: readonly string[];
}

interface SandboxFile {
  note: string;
  createdAt: string;
  signingSecret: string;
  signingKey: string;
  jwtSecret: string;
  asset: {
    code: string;
    issuer: string;
    issuerSecret: string;
    distributionAccount: string;
    distributionSecret: string;
  };
}

const FILE_MODE = 0o600;

/** What the operator configured; `undefined` where sandbox mode may fill in. */
export interface GivenSecrets {
  signingSecret: string | undefined;
  jwtSecret: string | undefined;
  assets: AssetConfig[] | undefined;
}

export interface FilledSecrets {
  signingSecret: string;
  jwtSecret: string;
  assets: AssetConfig[];
  /** True when anything came from `sandbox.json`. */
  sandbox: boolean;
  /** True when a secret (not just the demo asset) came from `sandbox.json`. */
  generatedSecrets: boolean;
  /** The generated distribution key, when the demo asset is served (it signs refunds). */
  distributionSecret: string | null;
  warnings: string[];
}

const HOW_TO_SET = {
  signingSecret: 'set SIGNING_SECRET or "signingSecret" in the config file',
  jwtSecret: 'set JWT_SECRET or "jwtSecret" in the config file',
  assets: 'list the assets to receive under "assets" in the config file',
} as const;

/**
 * Fills the missing signing secret, JWT secret and assets from `<dataDir>/sandbox.json` (created on first
 * use), with a warning for each. On pubnet nothing is filled: the first missing key is an error.
 */
export async function fillFromSandbox(
  given: GivenSecrets,
  network: StellarNetwork,
  dataDir: string,
): Promise<FilledSecrets> {
  const { signingSecret, jwtSecret, assets } = given;
  if (signingSecret !== undefined && jwtSecret !== undefined && assets !== undefined) {
    return {
      signingSecret,
      jwtSecret,
      assets,
      sandbox: false,
      generatedSecrets: false,
      distributionSecret: null,
      warnings: [],
    };
  }
  if (network === 'pubnet') {
    const missing =
      signingSecret === undefined ? 'signingSecret' : jwtSecret === undefined ? 'jwtSecret' : 'assets';
    throw new ConfigError(
      fileKey([missing]),
      `is required on pubnet (${HOW_TO_SET[missing]}); sandbox values are generated only on test networks`,
    );
  }
  const sandbox = await loadSandbox(dataDir);
  const warnings = [...sandbox.warnings];
  if (signingSecret === undefined) {
    const key = Keypair.fromSecret(sandbox.signingSecret).publicKey();
    warnings.push(
      `SANDBOX: using generated signing key ${key} stored in ${sandbox.path} — never use this on pubnet`,
    );
  }
  if (jwtSecret === undefined) warnings.push(`SANDBOX: using generated JWT secret stored in ${sandbox.path}`);
  if (assets === undefined) {
    warnings.push(
      `SANDBOX: serving demo asset ${SANDBOX_ASSET_CODE}:${sandbox.issuer} (issuer and distribution account ` +
        'generated, not funded on the network) — configure "assets" for real use',
    );
  }
  return {
    signingSecret: signingSecret ?? sandbox.signingSecret,
    jwtSecret: jwtSecret ?? sandbox.jwtSecret,
    assets: assets ?? [demoAsset(sandbox)],
    sandbox: true,
    generatedSecrets: signingSecret === undefined || jwtSecret === undefined,
    distributionSecret: assets === undefined ? sandbox.distributionSecret : null,
    warnings,
  };
}

/**
 * Sandbox mode: a test setup. Generated secrets make one; so does the demo asset when no sendingAnchors are
 * configured. An operator who set both secrets and the sendingAnchors is not running a sandbox, even with
 * the demo asset still in place.
 */
export function isSandbox(
  filled: Pick<FilledSecrets, 'sandbox' | 'generatedSecrets'>,
  sendingAnchors: number,
) {
  return filled.generatedSecrets || (filled.sandbox && sendingAnchors === 0);
}

function demoAsset(sandbox: Sandbox): AssetConfig {
  return {
    code: SANDBOX_ASSET_CODE,
    issuer: sandbox.issuer,
    distributionAccount: sandbox.distributionAccount,
    significantDecimals: SANDBOX_SIGNIFICANT_DECIMALS,
    sep31: { ...SANDBOX_SEP31, fundingMethods: [...SANDBOX_SEP31.fundingMethods] },
  };
}

/** Reads `<dataDir>/sandbox.json`, creating it first if it does not exist. */
export async function loadSandbox(dataDir: string): Promise<Sandbox> {
  const path = join(dataDir, SANDBOX_FILE);
  const created = await createIfMissing(dataDir, path);
  const warnings: string[] = [];
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    await chmod(path, FILE_MODE);
    warnings.push(`SANDBOX: ${path} was readable by others (mode ${mode.toString(8)}); changed to 600`);
  }
  return { path, created, warnings, ...(await readSandbox(path)) };
}

function generate(): SandboxFile {
  const signing = Keypair.random();
  const issuer = Keypair.random();
  const distribution = Keypair.random();
  return {
    note: 'Generated by Mooring for sandbox use on testnet only. Never use these keys on pubnet.',
    createdAt: new Date().toISOString(),
    signingSecret: signing.secret(),
    signingKey: signing.publicKey(),
    jwtSecret: randomBytes(32).toString('hex'),
    asset: {
      code: SANDBOX_ASSET_CODE,
      issuer: issuer.publicKey(),
      issuerSecret: issuer.secret(),
      distributionAccount: distribution.publicKey(),
      distributionSecret: distribution.secret(),
    },
  };
}

/**
 * Writes a complete temporary file and hard-links it into place: the link either succeeds atomically or
 * fails because another process got there first, so concurrent starts agree on one set of keys.
 */
async function createIfMissing(dataDir: string, path: string): Promise<boolean> {
  const where = `sandbox file ${path}`;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify(generate(), null, 2)}\n`, { mode: FILE_MODE, flag: 'wx' });
    try {
      await chmod(temporary, FILE_MODE);
      await link(temporary, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  } catch (error) {
    throw new ConfigError(where, `cannot create: ${(error as Error).message}`, { cause: error });
  }
}

async function readSandbox(path: string): Promise<Omit<Sandbox, 'path' | 'created' | 'warnings'>> {
  const where = `sandbox file ${path}`;
  try {
    const file = JSON.parse(await readFile(path, 'utf8')) as Partial<SandboxFile>;
    const signingSecret = checkSecretSeed(file.signingSecret, 'signingSecret');
    const jwtSecret = checkJwtSecret(file.jwtSecret, 'jwtSecret');
    const issuerSecret = checkSecretSeed(file.asset?.issuerSecret, 'asset.issuerSecret');
    const distributionSecret = checkSecretSeed(file.asset?.distributionSecret, 'asset.distributionSecret');
    return {
      signingSecret,
      jwtSecret,
      issuer: Keypair.fromSecret(issuerSecret).publicKey(),
      distributionAccount: Keypair.fromSecret(distributionSecret).publicKey(),
      distributionSecret,
    };
  } catch (error) {
    throw new ConfigError(
      where,
      `unusable (${(error as Error).message}); delete it to generate new sandbox keys`,
      {
        cause: error,
      },
    );
  }
}
