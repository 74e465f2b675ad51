import { describe, expect, it } from 'vitest';
import { runMooring } from '../helpers/process.ts';

describe.each([{ args: ['demo'] }, { args: ['demo', '--source', 'rpc'] }])('mooring $args', ({ args }) => {
  it(
    'walks one transaction through to completed with signed callbacks, then exits 0',
    { timeout: 90_000 },
    async () => {
      const { code, output } = await runMooring(args, {});
      expect(code, output).toBe(0);
      const transitions = [...output.matchAll(/^ {2}(\w+)\s+← (\w+)/gm)].map(([, status, event]) => [
        status,
        event,
      ]);
      expect(transitions, output).toEqual([
        ['pending_receiver', 'CREATED'],
        ['pending_sender', 'ACCOUNT_ASSIGNED'],
        ['pending_receiver', 'PAYMENT_RECEIVED'],
        ['pending_receiver', 'PAYOUT_REQUESTED'],
        ['pending_external', 'PAYOUT_PENDING_EXTERNAL'],
        ['completed', 'PAYOUT_COMPLETED'],
      ]);
      // The payment is a real signed Stellar transaction: its hash is what the watcher credited.
      expect(output).toMatch(/PAYMENT_RECEIVED +\(100\.0000000 USDC, stellar tx [0-9a-f]{64}\)/);
      expect(output).toMatch(/callbacks received: [1-9]\d*, all signatures valid/);
    },
  );
});
