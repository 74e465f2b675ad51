import { Command, InvalidArgumentError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { loadConfig, type Config } from '../config/index.ts';
import { migrateToLatest, openDatabase } from '../db/index.ts';
import { createLogger, ROLES, runSinglePass, startMooring, type Role } from '../main.ts';
import { configurationHelp } from './help.ts';
import { EXPORT_FORMATS, exportMachine, type ExportFormat } from './machines-export.ts';
import { startupErrorLine, type StartupTargets } from './startup-errors.ts';

const program = new Command('mooring')
  .description('SEP-31 receiving anchor for the Stellar network')
  .version(packageJson.version)
  .option('--config <file>', 'the config file (default: $MOORING_CONFIG, else ./mooring.config.json …)')
  .addHelpText('after', configurationHelp())
  .showHelpAfterError();

/** Where the command that failed was to connect: named in its one-line error. */
let targets: StartupTargets | null = null;

async function loadCliConfig(): Promise<Config> {
  const configFile = program.opts<{ config?: string }>().config;
  const config = await loadConfig(configFile === undefined ? {} : { overrides: { configFile } });
  targets = { databaseUrl: config.databaseUrl, natsUrl: config.natsUrl };
  return config;
}

program
  .command('serve')
  .description('run the anchor: every role in one process, or only those given with --only')
  .addOption(new Option('--only <roles...>', 'run only these roles').choices(ROLES))
  .action(async (options: { only?: Role[] }) => {
    await serveRoles(options.only ?? [...ROLES]);
  });

program
  .command('watch-transactions')
  .description('follow Horizon for payments to the receiving accounts (one active watcher per account)')
  .action(async () => {
    await serveRoles(['watcher']);
  });

program
  .command('actors')
  .description('apply events from the bus to the transaction actors')
  .action(async () => {
    await serveRoles(['actors']);
  });

for (const [name, description] of [
  ['execute-outgoing', 'request payouts for funded transactions and carry them out at the rails'],
  ['poll-outgoing', 'ask the rails about pending payouts and complete those that arrived'],
] as const) {
  program
    .command(name)
    .description(description)
    .option('--loop', 'keep running, one pass every --interval seconds (default: one pass, then exit)')
    .option('--interval <seconds>', 'seconds between passes', (value) => positiveSeconds(value))
    .action(async (options: { loop?: boolean; interval?: number }) => {
      if (options.loop) await serveRoles([name], options.interval);
      else await runOnce(name);
    });
}

program
  .command('demo')
  .description(
    'walk one SEP-31 transaction through an in-process anchor, fake Stellar network and sending anchor',
  )
  .option(
    '--source <source>',
    'where the anchor reads payments: horizon or rpc (a fake Stellar RPC)',
    'horizon',
  )
  .option('--keep', 'leave the anchor, the machine viewer and the demo transactions running (until Ctrl-C)')
  .action(async (options: { source: string; keep?: boolean }) => {
    if (options.source !== 'horizon' && options.source !== 'rpc') {
      program.error(`--source must be "horizon" or "rpc" (got "${options.source}")`);
    }
    const { runDemo } = await import('../demo/index.ts');
    const token = process.env.OPERATOR_TOKEN;
    // Only a kept demo waits for a signal; a plain one stops on Ctrl-C as any process does.
    const keep = options.keep
      ? {
          until: new Promise((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          }),
          ...(token !== undefined && token !== '' && { operatorToken: token }),
        }
      : undefined;
    // Exits explicitly: the SDK's HTTP agents may keep idle sockets open after everything has closed.
    process.exit(await runDemo({ source: options.source as 'horizon' | 'rpc', ...(keep && { keep }) }));
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    const config = await loadCliConfig();
    const database = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
    );
    try {
      await migrateToLatest(database.db);
      console.log(`migrated (${database.kind})`);
    } finally {
      await database.close();
    }
  });

const machines = program.command('machines').description('the formal models behind Mooring');
machines
  .command('export')
  .description('print a machine as a diagram or graph, generated from its definition')
  .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('mermaid'))
  .option('--machine <name>', 'which machine', 'transaction')
  .option('--out <file>', 'write to a file instead of stdout')
  .option(
    '--into <file>',
    'replace the block between <!-- machine:NAME:start/end --> markers in a Markdown file',
  )
  .action(async (options: { format: ExportFormat; machine: string; out?: string; into?: string }) => {
    await exportMachine(options);
  });

program
  .command('operator')
  .description('call the operator API of a running Mooring (docs/operator-api.md) and print the result')
  .argument('<method>', 'e.g. get_transaction, notify_offchain_funds_sent, rpc.discover')
  .argument('[params...]', 'key=value (a string) or key:=json; dots nest (refund.amount=5)')
  .option('--params <json>', 'the params as one JSON object')
  .option('--url <url>', 'Mooring base URL (default $MOORING_URL, else http://127.0.0.1:$PORT)')
  .option('--token <token>', 'the operator token (default $OPERATOR_TOKEN)')
  .option(
    '--as <name>',
    'who you are, recorded with every event (default $MOORING_OPERATOR, else your login)',
  )
  .action(
    async (
      method: string,
      assignments: string[],
      options: { params?: string; url?: string; token?: string; as?: string },
    ) => {
      const { callOperator, defaultOperatorName, defaultOperatorUrl, OperatorCliError } =
        await import('./operator.ts');
      try {
        const result = await callOperator({
          method,
          assignments,
          url: options.url ?? defaultOperatorUrl(),
          token: options.token ?? process.env.OPERATOR_TOKEN,
          operator: options.as ?? defaultOperatorName(),
          ...(options.params !== undefined && { paramsJson: options.params }),
        });
        console.log(JSON.stringify(result, null, 2));
      } catch (error) {
        if (!(error instanceof OperatorCliError)) throw error;
        console.error(`mooring operator ${method}: ${error.message}`);
        process.exitCode = 1;
      }
    },
  );

async function serveRoles(roles: Role[], intervalSeconds?: number) {
  const config = await loadCliConfig();
  const log = createLogger(config.logLevel);
  for (const warning of config.warnings) log.warn(warning);
  // Listen before starting: a signal during start-up (migrations, connecting) still ends in a clean close.
  const closeWith = shutdownOnSignal(log);
  const mooring = await startMooring(config, {
    roles,
    log,
    ...(intervalSeconds !== undefined && { intervalSeconds }),
  });
  closeWith(() => mooring.close());
}

async function runOnce(kind: 'execute-outgoing' | 'poll-outgoing') {
  const config = await loadCliConfig();
  const log = createLogger(config.logLevel);
  const counts = await runSinglePass(config, kind, log);
  log.info(counts, `${kind}: one pass done`);
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError('a positive number of seconds');
  return seconds;
}

/** Exits 0 after a clean close on SIGINT/SIGTERM; returns the setter for what to close once started. */
function shutdownOnSignal(log: { info(msg: string): void }): (close: () => Promise<void>) => void {
  let close: (() => Promise<void>) | null = null;
  let requested = false;
  const finish = () =>
    close!().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (requested) return;
      requested = true;
      log.info(`${signal}: shutting down`);
      if (close) void finish();
    });
  }
  return (closer) => {
    close = closer;
    if (requested) void finish();
  };
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // An operator's mistake is one clear line; anything else keeps its stack.
  console.error(startupErrorLine(error, targets) ?? error);
  process.exit(1);
}
