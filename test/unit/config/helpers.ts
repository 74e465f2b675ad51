import { Keypair } from '@stellar/stellar-sdk';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';

const made: string[] = [];

/** A fresh temporary folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mooring-config-'));
  made.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export async function writeJson(dir: string, name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

export const publicKey = (): string => Keypair.random().publicKey();
export const secretSeed = (): string => Keypair.random().secret();
export const JWT_SECRET = 'x'.repeat(32);

/** A complete, valid file: nothing left for sandbox mode to generate. */
export function fullConfig(): ConfigFile {
  return {
    signingSecret: secretSeed(),
    jwtSecret: JWT_SECRET,
    assets: [
      {
        code: 'USDC',
        issuer: publicKey(),
        distributionAccount: publicKey(),
        significantDecimals: 2,
        sep31: { minAmount: '1', maxAmount: '100000', feeFixed: '0.5', feePercent: '1' },
      },
    ],
    sendingAnchors: [{ name: 'acme', signingKeys: [publicKey()] }],
  };
}
