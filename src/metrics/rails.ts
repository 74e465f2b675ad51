import type { RailsIntegration } from '../integrations/rails-integration.ts';
import type { MooringMetrics } from './registry.ts';

/** The same rails, timing every call and counting those that throw. */
export function instrumentRails(rails: RailsIntegration, metrics: MooringMetrics): RailsIntegration {
  async function timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const stop = metrics.railsDuration.startTimer({ operation });
    try {
      const result = await call();
      stop({ outcome: 'ok' });
      return result;
    } catch (error) {
      stop({ outcome: 'error' });
      metrics.railsFailures.inc({ operation });
      throw error;
    }
  }
  return {
    executeOutgoingTransaction: (transaction, options) =>
      timed('execute_outgoing', () => rails.executeOutgoingTransaction(transaction, options)),
    pollOutgoingTransactions: (transactions, options) =>
      timed('poll_outgoing', () => rails.pollOutgoingTransactions(transactions, options)),
  };
}
