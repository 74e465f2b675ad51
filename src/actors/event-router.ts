import type { TransactionEventEnvelope } from '../../machines/index.ts';
import type { EventBus, BusSubscription } from '../bus/index.ts';
import { EventRejectedError, TransactionNotFoundError } from './errors.ts';
import type { TransactionHost } from './transaction-host.ts';

export interface RouterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Delivers bus events to the actor host. The bus acks only after the host's commit; an event the
 * state refuses is a final answer (acked and logged, kept in the bus log), not something to retry.
 * Any other failure (database down, conflict) throws, so the bus redelivers.
 */
export async function routeEventsToActors(
  bus: EventBus,
  host: TransactionHost,
  log: RouterLogger,
): Promise<BusSubscription> {
  return bus.subscribe(async (envelope: TransactionEventEnvelope) => {
    try {
      const result = await host.apply(envelope);
      if (result.outcome === 'duplicate') log.info({ eventId: envelope.eventId }, 'event already applied');
    } catch (error) {
      if (error instanceof EventRejectedError || error instanceof TransactionNotFoundError) {
        log.warn(
          { eventId: envelope.eventId, transactionId: envelope.transactionId, reason: error.message },
          'event refused',
        );
        return;
      }
      throw error;
    }
  });
}
