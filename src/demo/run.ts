/**
 * `mooring demo`: the real anchor (`startMooring`, every role, PGlite in a temp dir, in-process bus) against
 * an in-process fake Stellar network and a simulated sending anchor. One transaction walks the machine and
 * every status change is printed with the event that caused it; then everything shuts down. With `keep`, it
 * adds a transaction left waiting for its payment and keeps everything running, the machine viewer included,
 * until `keep.until` resolves (the CLI: Ctrl-C).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Keypair, Memo, Networks } from '@stellar/stellar-sdk';
import { loadConfig } from '../config/index.ts';
import { VIEWER_BASE } from '../viewer/api.ts';
import { createLogger, startMooring, type Mooring } from '../main.ts';
import { startCallbackReceiver, type CallbackReceiver } from './callback-receiver.ts';
import { freePort } from '../net/free-port.ts';
import { demoConfigFile } from './setup.ts';
import { startDemoHorizon, type DemoHorizon } from './fake-horizon.ts';
import { startDemoRpc, type DemoRpc } from './fake-rpc.ts';
import { connectSendingAnchor, registerExampleCustomers } from './sending-anchor.ts';
import { followTransaction, formatTransition } from './trace.ts';

export interface DemoOptions {
  print?: (line: string) => void;
  /** Where the anchor reads payments: the fake Horizon (default) or a fake Stellar RPC. */
  source?: 'horizon' | 'rpc';
  /** Give up after this long. Default 60 s. */
  timeoutMs?: number;
  /** Keep the anchor, its viewer and the demo transactions running until `until` resolves. */
  keep?: {
    until: Promise<unknown>;
    /** The viewer's operator token; default: a random one, printed. */
    operatorToken?: string;
  };
}

const AMOUNT = '100';
const ASSET_CODE = 'USDC';

/** Runs the demo; resolves with the process exit code (0 when the transaction completed with valid callbacks). */
export async function runDemo({
  print = console.log,
  timeoutMs = 60_000,
  source = 'horizon',
  keep,
}: DemoOptions = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const dir = await mkdtemp(join(tmpdir(), 'mooring-demo-'));
  const keys = { issuer: Keypair.random(), distribution: Keypair.random(), sender: Keypair.random() };
  const operatorToken = keep ? (keep.operatorToken ?? randomBytes(24).toString('base64url')) : undefined;
  let horizon: DemoHorizon | undefined;
  let rpc: DemoRpc | undefined;
  let mooring: Mooring | undefined;
  let receiver: CallbackReceiver | undefined;
  try {
    horizon = await startDemoHorizon(Networks.TESTNET);
    horizon.addAccount(keys.sender.publicKey());
    horizon.addAccount(keys.distribution.publicKey());
    const port = await freePort();
    if (source === 'rpc') rpc = await startDemoRpc(Networks.TESTNET);
    const file = {
      ...demoConfigFile({ port, horizonUrl: horizon.url, keys, assetCode: ASSET_CODE }),
      ...(rpc && { stellar: { source: 'rpc', rpcUrl: rpc.url, rpcPollIntervalSeconds: 0.5 } }),
    };
    await writeFile(join(dir, 'mooring.json'), JSON.stringify(file, null, 2));
    const config = await loadConfig({
      env: {
        MOORING_CONFIG: join(dir, 'mooring.json'),
        MOORING_DATA_DIR: join(dir, 'data'),
        EXECUTE_OUTGOING_INTERVAL: '1',
        POLL_OUTGOING_INTERVAL: '1',
        ...(operatorToken !== undefined && { OPERATOR_TOKEN: operatorToken }),
      },
      cwd: dir,
    });
    mooring = await startMooring(config, { log: createLogger('warn') });
    print(
      `mooring (all roles) on ${mooring.url}, fake Horizon on ${horizon.url}` +
        (rpc ? `, payments read from a fake Stellar RPC on ${rpc.url}` : '') +
        `, database in ${dir}`,
    );
    receiver = await startCallbackReceiver();

    const anchor = await connectSendingAnchor(config.homeDomain, keys.sender);
    print(`sending anchor ${short(keys.sender.publicKey())}: read stellar.toml, authenticated with SEP-10`);
    const { senderId, receiverId } = await registerExampleCustomers(anchor);
    print(`SEP-12: sender ${senderId}, receiver ${receiverId}`);
    const created = await anchor.createTransaction({
      amount: AMOUNT,
      asset_code: ASSET_CODE,
      asset_issuer: keys.issuer.publicKey(),
      funding_method: 'SEPA',
      sender_id: senderId,
      receiver_id: receiverId,
    });
    await anchor.registerCallback(created.id!, receiver.url);
    print(`SEP-31: transaction ${created.id}, callbacks to ${receiver.url}\n`);

    const following = followTransaction(
      mooring.database.db,
      created.id!,
      (transition) => print(formatTransition(transition, { amount: AMOUNT, assetCode: ASSET_CODE })),
      { deadline },
    );
    // Pay once the watcher listens, as a sender pays after reading the instructions.
    await (rpc ? rpc.polling() : horizon.streaming(created.stellar_account_id!));
    const payment = {
      from: keys.sender,
      destination: created.stellar_account_id!,
      asset: new Asset(ASSET_CODE, keys.issuer.publicKey()),
      amount: AMOUNT,
      memo: Memo.hash(Buffer.from(created.stellar_memo!, 'base64').toString('hex')),
    };
    const paid = horizon.pay(payment);
    // Over RPC the same signed payment shows as its asset contract's CAP-67 transfer event.
    rpc?.record(paid, payment);
    const status = await following;
    const callbacks = await waitForCallback(receiver, status, deadline);
    const valid = receiver.validSignatures(anchor.toml.SIGNING_KEY!);
    print(
      `\n  callbacks received: ${callbacks}, ` +
        (valid === callbacks ? 'all signatures valid' : `${callbacks - valid} with an INVALID signature`),
    );
    const code = status === 'completed' && valid === callbacks && callbacks > 0 ? 0 : 1;
    if (keep) {
      // One more, left waiting for its payment, so that the viewer shows a transaction in progress too.
      const waiting = await anchor.createTransaction({
        amount: AMOUNT,
        asset_code: ASSET_CODE,
        asset_issuer: keys.issuer.publicKey(),
        funding_method: 'SEPA',
        sender_id: senderId,
        receiver_id: receiverId,
      });
      print(`\n  kept running: ${created.id} (completed) and ${waiting.id} (waiting for its payment)`);
      print(`  machine viewer: ${mooring.url}${VIEWER_BASE} (operator token: ${operatorToken})`);
      print('  press Ctrl-C to stop');
      await keep.until;
    }
    return code;
  } finally {
    await receiver?.close().catch(() => {});
    await mooring?.close().catch(() => {});
    await horizon?.close().catch(() => {});
    await rpc?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** Callbacks go out through the outbox relay, just after the status change: wait for the final one. */
async function waitForCallback(
  receiver: CallbackReceiver,
  status: string,
  deadline: number,
): Promise<number> {
  while (!receiver.received.some((c) => c.status === status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return receiver.received.length;
}

function short(key: string): string {
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}
