import { describe, expect, it } from 'vitest';
import { runMooring, startMooringProcess } from '../helpers/process.ts';

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

describe('mooring demo --keep', () => {
  it(
    'leaves the anchor, its viewer and the demo transactions running, prints the viewer URL, and stops on SIGTERM',
    { timeout: 90_000 },
    async () => {
      const token = 'demo-keep-operator-token-0123456789';
      const run = startMooringProcess(['demo', '--keep'], { OPERATOR_TOKEN: token });
      try {
        const deadline = Date.now() + 60_000;
        let match: RegExpExecArray | null = null;
        while (match === null && Date.now() < deadline && run.child.exitCode === null) {
          match = /machine viewer: (http:\/\/\S+\/machines) \(operator token: (\S+)\)/.exec(run.output());
          if (match === null) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(match, run.output()).not.toBeNull();
        const [, viewer, printed] = match!;
        expect(printed).toBe(token);
        // Still running after the walk-through: the viewer's page and its API answer.
        expect((await fetch(viewer!)).status).toBe(200);
        const auth = { authorization: `Bearer ${token}` };
        // The walk-through's transaction completed; the kept one waits for its payment, listed by the viewer.
        const counts = (await (await fetch(`${viewer}/api/counts`, { headers: auth })).json()) as {
          total: number;
          counts: Record<string, number>;
        };
        expect([
          counts.total,
          counts.counts['transaction.completed'],
          counts.counts['transaction.pending_sender'],
        ]).toEqual([2, 1, 1]);
        const waiting = /(\S+) \(waiting for its payment\)/.exec(run.output())?.[1];
        const listed = (await (
          await fetch(`${viewer}/api/transactions?state=transaction.pending_sender`, { headers: auth })
        ).json()) as { items: { id: string }[] };
        expect(listed.items.map((t) => t.id)).toEqual([waiting]);
        expect(run.child.exitCode).toBeNull();
      } finally {
        expect(await run.stop('SIGTERM')).toBe(0);
      }
    },
  );
});
