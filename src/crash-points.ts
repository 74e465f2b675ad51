/**
 * Named points where the reliability tests crash a real process: `MOORING_CRASH_AT=<point>:<n>` makes
 * the process SIGKILL itself the n-th time it reaches `<point>` (no shutdown hook runs, as with `kill -9`).
 * Unset, a crash point does nothing. Points:
 * - `watcher.published`: a page's credits are on the bus, its cursor is not committed yet;
 * - `actors.committing`: a batch is written in the open database transaction, not committed yet;
 * - `payout.booked`: the rails took a payout, its answer is not on the bus yet;
 * - `refund.signed`: a refund's envelope is stored, not submitted yet;
 * - `refund.submitted`: Horizon took a refund, it is not recorded yet.
 */
const [point, count] = (process.env.MOORING_CRASH_AT ?? '').split(':');
let remaining = Number(count ?? 0);

export function crashPoint(name: string): void {
  if (name !== point || !(remaining > 0)) return;
  remaining -= 1;
  if (remaining === 0) process.kill(process.pid, 'SIGKILL');
}
