/**
 * Applies a batch of messages to transaction actors inside one database transaction: the group commit of
 * the actor host. Set-based: a handful of statements for the whole batch, whatever its size.
 *
 * 1. Read: the transactions not in the host's cache; which message ids were applied or refused before;
 *    which credited operations and memos are taken (so a unique index never aborts the batch); the ids
 *    of creates with an idempotency key, which a retry may find taken; the firm quotes creates are on.
 * 2. Step each message in order through the pure machine. A message the actor refuses is answered,
 *    recorded in `refused_messages` (and, for a payment, stored as unmatched) and does not hold back the
 *    others.
 * 3. Progress that waits on customers: a funded transaction whose customers are ACCEPTED gets
 *    PAYOUT_REQUESTED now; one waiting for customer info that was answered gets CUSTOMER_INFO_UPDATED.
 *    A transaction that asked for customer info (CUSTOMER_INFO_NEEDED) tells its customers, so they apply
 *    the round at once (`actor_message` effects).
 * 4. Write: new rows, changed rows (each checked against the version it was read at: the fence), the
 *    quotes taken by new transactions (a quote a concurrent batch took first fails the batch, retried:
 *    the retry refuses that create `quote_used`), the events, the effects (outbox), unmatched payments
 *    and refusals.
 *
 * Nothing here commits, replies or touches the cache: the host does that once the commit succeeded.
 */
import type { Transaction } from 'kysely';
import {
  acceptedEventTypes,
  invariantViolations,
  paidAfterQuoteExpired,
  persist,
  restore,
  startTransaction,
  stepTransaction,
  type PersistedTransaction,
  type Step,
  type TransactionEvent,
  type TransactionEventType,
  type TransactionInput,
  type TransactionSnapshot,
  type TransactionStatus,
} from '../../machines/index.ts';
import type { Config } from '../config/index.ts';
import { flagCustomerFields } from '../db/customers.repository.ts';
import type { Database } from '../db/database.ts';
import { insertEffectsQuery, type NewOutboxEffect } from '../db/outbox.repository.ts';
import { actorMessagePayload, transactionEffectPayload } from '../effects/payloads.ts';
import {
  businessEventEffects,
  transactionEvent,
  type BusinessEventKind,
} from '../effects/business-events.ts';
import {
  findRefusedMessagesQuery,
  recordRefusedMessages,
  type RefusedMessage,
} from '../db/refused-messages.repository.ts';
import {
  appendEventsQuery,
  creditedOperations,
  findAppliedEventsQuery,
  findCreditedOperationsQuery,
  findKeyedTransactionsQuery,
  findTakenMemosQuery,
  insertTransactionsQuery,
  loadTransactions,
  loadTransactionsQuery,
  memoKeyText,
  storedTransaction,
  takenMemos as takenMemosOf,
  transactionVersionsQuery,
  updateTransactions,
  type Idempotency,
  type MemoKey,
  type NewEvent,
  type TransactionWrite,
} from '../db/transactions.repository.ts';
import { moveStateCountsQuery } from '../db/transaction-state-counts.repository.ts';
import { readTogether } from '../db/read-together.ts';
import { writeTogether } from '../db/write-together.ts';
import { recordUnmatchedPayments, type UnmatchedPayment } from '../db/unmatched-payments.repository.ts';
import { claimQuotes, findQuoteClaimsQuery } from '../db/quotes.repository.ts';
import { QuoteClaimLostError, VersionConflictError } from './errors.ts';
import {
  isTransactionMessage,
  transactionAddress,
  type RefusalCode,
  type TransactionMessageBody,
  type TransactionReply,
  type UnmatchedPaymentInfo,
} from './messages.ts';
import {
  answeredRound,
  customersAccepted,
  infoNeededMessages,
  readTransactionCustomers,
  type TransactionParties,
} from './transaction-customers.ts';

/** One message for a transaction actor, as the host hands it over. */
export interface TransactionItem {
  messageId: string;
  transactionId: string;
  body: unknown;
  replyTo: string | null;
}

/** What the host keeps of a hot actor between batches. */
export interface CachedTransaction {
  version: number;
  status: TransactionStatus;
  snapshot: TransactionSnapshot;
  callbackUrl: string | null;
}

export interface TransactionBatchDeps {
  /**
   * SEP-12 types whose customers must be ACCEPTED before a payout (`payoutCustomerTypes(config)`); a
   * funded transaction whose customers are is paid out at once. Null: never by itself (hand-stepped tests).
   */
  payoutCustomerTypes: readonly string[] | null;
  sep12: Pick<Config['sep12'], 'types'>;
  clock: () => Date;
  /** Hot actors (host-owned; read only here). */
  cached?: (transactionId: string) => CachedTransaction | undefined;
  /** Outbox kinds each business event is written as (`businessEventKinds(config)`); none by default. */
  eventKinds?: readonly BusinessEventKind[];
}

export interface TransactionBatchResult {
  /** One answer per item, in order. */
  answers: TransactionReply[];
  /** Outbox kinds written (the relays to wake). */
  effectKinds: Set<string>;
  /** The state of every transaction the batch touched, to cache once committed. */
  states: Map<string, CachedTransaction>;
}

interface Working {
  id: string;
  isNew: boolean;
  /** The version it was read at (0 for a new transaction): the fence of the write. */
  readVersion: number;
  /** The state it was read in (null for a new transaction): the count it leaves when rewritten. */
  readState: StateCount | null;
  version: number;
  status: TransactionStatus;
  snapshot: TransactionSnapshot;
  persisted: PersistedTransaction;
  callbackUrl: string | null;
  dirty: boolean;
  customersChanged: boolean;
}

type StateCount = { status: TransactionStatus; stateValue: TransactionSnapshot['value'] };

type Refusal = { code: RefusalCode; reason: string; accepts?: TransactionEventType[] };

const PAYMENT_RECEIVED = 'PAYMENT_RECEIVED';

export async function applyTransactionBatch(
  trx: Transaction<Database>,
  items: readonly TransactionItem[],
  deps: TransactionBatchDeps,
): Promise<TransactionBatchResult> {
  const now = deps.clock();
  const at = now.toISOString();
  const bodies = items.map((item) =>
    isTransactionMessage(item.body) ? (item.body as TransactionMessageBody) : null,
  );

  // 1. Read ------------------------------------------------------------------------------------------
  const working = new Map<string, Working>();
  const ids = [...new Set(items.map((item) => item.transactionId))];
  // A create names a fresh id: its row cannot exist unless the create was applied, which the event log
  // tells (below); a refused create is not remembered. So a create reads no row and no refusal (a keyed
  // create, whose id comes from its key, reads only whether its id is taken, below).
  const addressed = new Set(
    items.filter((_, i) => bodies[i]?.type !== 'create').map((item) => item.transactionId),
  );
  const toLoad: string[] = [];
  const hot = new Map<string, CachedTransaction>();
  for (const id of addressed) {
    const cached = deps.cached?.(id);
    if (cached) hot.set(id, cached);
    else toLoad.push(id);
  }

  // A create is answered, also as a duplicate, with the state after its last first event.
  const lastEventId = (item: TransactionItem, body: TransactionMessageBody | null) =>
    body?.type === 'create' && body.then.length > 0
      ? `${item.messageId}:${body.then.length}`
      : item.messageId;
  const decided = items.flatMap((item, i) =>
    bodies[i]?.type === 'event' || bodies[i]?.type === 'create' ? [lastEventId(item, bodies[i]!)] : [],
  );
  const operationIds: string[] = [];
  const memoKeys: MemoKey[] = [];
  for (const body of bodies) {
    if (body?.type === 'event' && body.event.type === PAYMENT_RECEIVED) {
      operationIds.push(body.event.payment.operationId);
    } else if (body?.type === 'create') {
      const memo = assignedMemo(body.then);
      if (memo) memoKeys.push(memo);
    }
  }

  // A create with an idempotency key names an id derived from the key: its row may exist (a retry), so
  // those ids, and only those, are looked up.
  const keyedIds = items.filter((_, i) => isKeyedCreate(bodies[i])).map((item) => item.transactionId);
  const quoteIds = bodies.flatMap((body) =>
    body?.type === 'create' && body.input.quoteId !== null ? [body.input.quoteId] : [],
  );

  // Every look-up in one round trip.
  const [versionRows, loadedRows, appliedRows, refusedRows, creditedRows, memoRows, keyedRows, quoteRows] =
    await readTogether(trx, [
      transactionVersionsQuery(trx, [...hot.keys()]),
      loadTransactionsQuery(trx, toLoad),
      findAppliedEventsQuery(trx, ids, decided),
      findRefusedMessagesQuery(
        trx,
        [...addressed].map(transactionAddress),
        items.filter((_, i) => bodies[i]?.type !== 'create').map((item) => item.messageId),
      ),
      findCreditedOperationsQuery(trx, operationIds),
      findTakenMemosQuery(trx, memoKeys),
      findKeyedTransactionsQuery(trx, keyedIds),
      findQuoteClaimsQuery(trx, quoteIds, now),
    ]);
  // A cached actor is used only at the version the database has: anything written around the host (an
  // operator's fix, a tool) is seen, and the actor is loaded again.
  const versions = new Map(versionRows.map((row) => [row.id, row.version]));
  const stale: string[] = [];
  for (const [id, cached] of hot) {
    if (versions.get(id) === cached.version) working.set(id, fromCache(id, cached));
    else stale.push(id);
  }
  const loaded = [...loadedRows.map(storedTransaction), ...(await loadTransactions(trx, stale))];
  for (const row of loaded) {
    const snapshot = restore(row.persisted);
    working.set(row.id, {
      id: row.id,
      isNew: false,
      readVersion: row.version,
      readState: { status: row.status, stateValue: snapshot.value },
      version: row.version,
      status: row.status,
      snapshot,
      persisted: row.persisted,
      callbackUrl: row.callbackUrl,
      dirty: false,
      customersChanged: false,
    });
  }

  const applied = new Map<string, { seq: number; status: TransactionStatus }>();
  for (const row of appliedRows) {
    applied.set(pairKey(row.transaction_id, row.event_id), { seq: row.seq, status: row.status_after });
  }
  const refusedBefore = new Map<string, { code: string; reason: string }>();
  for (const row of refusedRows) {
    refusedBefore.set(pairKey(row.actor, row.message_id), { code: row.code, reason: row.reason });
  }
  const credited = creditedOperations(creditedRows);
  const takenMemos = takenMemosOf(memoRows);
  /** Transactions a keyed create may name: those read above, and those created in this batch. */
  const keyed = new Map<string, KeyedTransaction>(
    keyedRows.map((row) => [
      row.id,
      {
        sendingAnchor: row.sending_anchor,
        status: row.status,
        idempotency:
          row.idempotency_key === null || row.request_hash === null
            ? null
            : { key: row.idempotency_key, requestHash: row.request_hash },
      },
    ]),
  );

  /** The quotes creates are on: who holds each (updated as creates of this batch take them). */
  const quotes = new Map(
    quoteRows.map((row) => [row.id, { holder: row.transaction_id, expired: row.expired }]),
  );
  const claims: { quoteId: string; transactionId: string }[] = [];

  // 2. Step ------------------------------------------------------------------------------------------
  const events: NewEvent[] = [];
  const effects: NewOutboxEffect[] = [];
  const unmatched: UnmatchedPayment[] = [];
  const refusals: RefusedMessage[] = [];
  const flags: Parameters<typeof flagCustomerFields>[1][] = [];
  /** CUSTOMER_INFO_NEEDED applied in this batch: its customers are told to apply the round. */
  const infoNeeded: { w: Working; seq: number; customerType: string | null }[] = [];
  const answers: TransactionReply[] = [];

  const refuse = (item: TransactionItem, kind: string, refusal: Refusal, w: Working | undefined) => {
    // A refused create leaves no actor to remember it, and its retry (another memo) must be heard again.
    if (kind !== 'create')
      refusals.push({
        actor: transactionAddress(item.transactionId),
        messageId: item.messageId,
        kind,
        code: refusal.code,
        reason: refusal.reason,
        payload: item.body,
      });
    return {
      outcome: 'refused' as const,
      code: refusal.code,
      reason: refusal.reason,
      status: w?.status ?? null,
      state: w?.snapshot.value ?? null,
      accepts: refusal.accepts ?? [],
    };
  };

  /** Steps one event on `w`; records its event row and effects. */
  const step = (w: Working, eventId: string, event: TransactionEvent, operator?: string): Refusal | null => {
    const result = stepTransaction(w.snapshot, event);
    if (!result.accepted) return { code: 'rejected', reason: result.reason, accepts: result.accepts };
    const broken = invariantViolations(result.step.status, result.step.snapshot.context);
    if (broken.length > 0) return { code: 'failed', reason: `would break invariants: ${broken.join('; ')}` };
    record(w, eventId, event, w.status, result.step, operator);
    announce(w, 'transaction_status_changed');
    return null;
  };

  /** The business event of the change just recorded on `w`, as the transaction is now. */
  const announce = (w: Working, type: 'transaction_created' | 'transaction_status_changed') => {
    if (!deps.eventKinds?.length) return;
    const event = transactionEvent({
      type,
      status: w.status,
      context: w.snapshot.context,
      seq: w.version,
      at: now,
    });
    effects.push(...businessEventEffects(event, deps.eventKinds, { id: w.id, seq: w.version }));
  };

  const record = (
    w: Working,
    eventId: string,
    event: { type: string },
    statusBefore: TransactionStatus | null,
    next: Step,
    operator?: string,
  ) => {
    w.version += 1;
    w.snapshot = next.snapshot;
    w.status = next.status;
    w.persisted = persist(next.snapshot);
    w.dirty = true;
    events.push({
      transactionId: w.id,
      seq: w.version,
      eventId,
      eventType: event.type,
      payload: event,
      statusBefore,
      statusAfter: next.status,
      stateAfter: next.snapshot.value,
      operator: operator ?? null,
      transition: next.transition,
    });
    next.effects.forEach((effect, index) => {
      // A status change is told only to a registered callback URL: without one the row could do nothing.
      if (effect.kind === 'status_changed' && w.callbackUrl === null) return;
      effects.push({
        transactionId: w.id,
        seq: w.version,
        kind: effect.kind,
        // Each effect carries the transaction as it was when the effect arose: a callback sent late still
        // reports the status change it is about, and a payout sees the amounts it was asked for.
        payload: transactionEffectPayload(effect, { status: next.status, context: next.snapshot.context }),
        idempotencyKey:
          'outboxKey' in effect && effect.outboxKey !== undefined
            ? effect.outboxKey
            : 'idempotencyKey' in effect
              ? effect.idempotencyKey
              : `${w.id}:${w.version}:${index}`,
      });
    });
  };

  const storeUnmatched = (info: UnmatchedPaymentInfo | undefined, reason: string, transactionId: string) => {
    if (!info) return;
    const { record, ...payment } = info;
    unmatched.push({ ...payment, reason, transactionId, payload: record ?? payment });
  };

  for (const [index, item] of items.entries()) {
    const body = bodies[index] ?? null;
    const w = working.get(item.transactionId);
    if (body === null) {
      answers.push(
        refuse(item, 'malformed', { code: 'malformed', reason: 'not a transaction message' }, undefined),
      );
      continue;
    }
    const kind = body.type === 'event' ? `event:${body.event.type}` : body.type;
    // A retried keyed create (or its twin in flight) finds its transaction before its message id does:
    // the caller compares request hashes, so a reused key with another body is not taken for a retry.
    const existing = body.type === 'create' && body.idempotency ? keyed.get(item.transactionId) : undefined;
    if (existing && body.type === 'create') {
      answers.push(existsAnswer(item.transactionId, existing, body.input.sendingAnchor, body.idempotency!));
      continue;
    }
    const done = applied.get(pairKey(item.transactionId, lastEventId(item, body)));
    if (done && (body.type === 'event' || body.type === 'create')) {
      answers.push({ outcome: 'duplicate', status: done.status, version: done.seq });
      continue;
    }
    const before = refusedBefore.get(pairKey(transactionAddress(item.transactionId), item.messageId));
    if (before) {
      answers.push({
        outcome: 'refused',
        code: before.code as RefusalCode,
        reason: before.reason,
        status: w?.status ?? null,
        state: w?.snapshot.value ?? null,
        // What the state takes now (the retry of a refused event may meet another state).
        accepts: w && before.code === 'rejected' ? acceptedEventTypes(w.snapshot) : [],
      });
      continue;
    }

    switch (body.type) {
      case 'create': {
        const refusal = create(item, body);
        if (refusal === null) {
          const w = working.get(item.transactionId)!;
          applied.set(pairKey(item.transactionId, lastEventId(item, body)), {
            seq: w.version,
            status: w.status,
          });
        }
        answers.push(
          refusal === null ? answer(working.get(item.transactionId)!) : refuse(item, kind, refusal, w),
        );
        break;
      }
      case 'event': {
        const event = body.event;
        let refusal: Refusal | null;
        if (!w) refusal = notFound(item);
        else if (event.type === PAYMENT_RECEIVED && alreadyCredited(event, item.transactionId)) {
          refusal = {
            code: 'already_credited',
            reason: `operation ${event.payment.operationId} is credited to another transaction`,
          };
        } else refusal = safely(() => step(w, item.messageId, event, body.operator));
        if (refusal === null) {
          // The same message twice in one batch (a retry that raced its first send) applies once.
          applied.set(pairKey(item.transactionId, item.messageId), { seq: w!.version, status: w!.status });
          if (event.type === PAYMENT_RECEIVED) credited.set(event.payment.operationId, item.transactionId);
          if (event.type === 'CUSTOMER_INFO_NEEDED') {
            infoNeeded.push({ w: w!, seq: w!.version, customerType: event.customerType ?? null });
          }
          if (event.type === 'CUSTOMER_INFO_NEEDED' && event.fields && event.fields.length > 0) {
            flags.push({
              transactionId: item.transactionId,
              type: event.customerType ?? 'sep31-receiver',
              fields: event.fields,
              message: event.message,
              at: now,
            });
          }
          answers.push(answer(w!));
        } else {
          if (event.type === PAYMENT_RECEIVED) {
            const late =
              refusal.code === 'rejected' &&
              w !== undefined &&
              paidAfterQuoteExpired(w.persisted.context, event.payment);
            storeUnmatched(
              body.unmatched,
              late ? 'expired' : unmatchedReason(refusal, w?.status ?? null),
              item.transactionId,
            );
          }
          answers.push(refuse(item, kind, refusal, w));
        }
        break;
      }
      case 'register_callback': {
        if (!w || w.persisted.context.sendingAnchor !== body.sendingAnchor) {
          answers.push(refuse(item, kind, notFound(item), undefined));
          break;
        }
        w.callbackUrl = body.url;
        w.dirty = true;
        answers.push(answer(w));
        break;
      }
      case 'customers_changed': {
        if (!w) {
          answers.push(refuse(item, kind, notFound(item), undefined));
          break;
        }
        w.customersChanged = true;
        answers.push(answer(w));
        break;
      }
    }
  }

  function create(
    item: TransactionItem,
    body: Extract<TransactionMessageBody, { type: 'create' }>,
  ): Refusal | null {
    const input: TransactionInput = body.input;
    if (input.id !== item.transactionId)
      return { code: 'malformed', reason: 'the input id is not the address' };
    if (working.has(input.id)) return { code: 'exists', reason: `transaction ${input.id} exists` };
    if (body.notAfter !== null && Date.parse(body.notAfter) < now.getTime()) {
      return { code: 'late', reason: `the request gave up at ${body.notAfter}` };
    }
    const memo = assignedMemo(body.then);
    if (memo && takenMemos.has(memoKeyText(memo))) {
      return { code: 'memo_taken', reason: 'another transaction has this receiving account and memo' };
    }
    const quote = input.quoteId === null ? null : quotes.get(input.quoteId);
    if (quote === undefined) return { code: 'quote_invalid', reason: `quote ${input.quoteId} not found` };
    if (quote !== null && quote.holder !== null) {
      return { code: 'quote_used', reason: `quote ${input.quoteId} has already been used` };
    }
    if (quote?.expired) return { code: 'quote_invalid', reason: `quote ${input.quoteId} has expired` };
    const refusal = safely(() => {
      let current = startTransaction(input);
      const steps: {
        eventId: string;
        event: { type: string };
        before: TransactionStatus | null;
        step: Step;
      }[] = [{ eventId: item.messageId, event: { type: 'CREATED', ...input }, before: null, step: current }];
      for (const [i, event] of body.then.entries()) {
        const result = stepTransaction(current.snapshot, event);
        if (!result.accepted) return { code: 'rejected', reason: result.reason, accepts: result.accepts };
        steps.push({
          eventId: `${item.messageId}:${i + 1}`,
          event,
          before: current.status,
          step: result.step,
        });
        current = result.step;
      }
      const broken = invariantViolations(current.status, current.snapshot.context);
      if (broken.length > 0)
        return { code: 'failed', reason: `would break invariants: ${broken.join('; ')}` };
      const w: Working = {
        id: input.id,
        isNew: true,
        readVersion: 0,
        readState: null,
        version: 0,
        status: current.status,
        snapshot: current.snapshot,
        persisted: persist(current.snapshot),
        callbackUrl: null,
        dirty: true,
        customersChanged: false,
      };
      for (const s of steps) record(w, s.eventId, s.event, s.before, s.step);
      announce(w, 'transaction_created');
      working.set(input.id, w);
      if (memo) takenMemos.add(memoKeyText(memo));
      if (body.idempotency) {
        keyed.set(input.id, {
          sendingAnchor: input.sendingAnchor,
          status: w.status,
          idempotency: body.idempotency,
        });
      }
      return null;
    });
    if (refusal === null && quote !== null && input.quoteId !== null) {
      quote.holder = input.id;
      claims.push({ quoteId: input.quoteId, transactionId: input.id });
    }
    return refusal;
  }

  function alreadyCredited(
    event: Extract<TransactionEvent, { type: 'PAYMENT_RECEIVED' }>,
    id: string,
  ): boolean {
    const holder = credited.get(event.payment.operationId);
    return holder !== undefined && holder !== id;
  }

  // 3. Progress that waits on customers ---------------------------------------------------------------
  for (let round = 0; round < 3; round++) {
    const ready =
      deps.payoutCustomerTypes === null ? [] : [...working.values()].filter((w) => isReady(w.snapshot));
    const answering = [...working.values()].filter(
      (w) => w.customersChanged && w.status === 'pending_customer_info_update',
    );
    if (ready.length === 0 && answering.length === 0) break;
    // Without KYC types a funded transaction waits on nobody: nothing to read for it.
    const asked = deps.payoutCustomerTypes?.length === 0 ? answering : [...ready, ...answering];
    const facts = await readTransactionCustomers(trx, asked.map(partiesOf), {
      rounds: answering.map((w) => w.id),
    });
    let moved = false;
    for (const w of ready) {
      if (!customersAccepted(facts, partiesOf(w), deps.payoutCustomerTypes ?? [])) continue;
      const attempt = w.persisted.context.payoutAttempt + 1;
      if (
        safely(() => step(w, `payout-request:${w.id}:${attempt}`, { type: 'PAYOUT_REQUESTED', at })) === null
      ) {
        moved = true;
      }
    }
    for (const w of answering) {
      w.customersChanged = false;
      const seq = answeredRound(facts, partiesOf(w), deps.sep12, at);
      if (seq === null) continue;
      if (
        safely(() =>
          step(w, `customer-info-updated:${w.id}:${seq}`, { type: 'CUSTOMER_INFO_UPDATED', at }),
        ) === null
      ) {
        moved = true;
      }
    }
    if (!moved) break;
  }

  // 3b. Customers asked for information apply the round at once (a message to each, sent after commit) -
  if (infoNeeded.length > 0) {
    const parties = infoNeeded.map(({ w }) => partiesOf(w));
    const facts = await readTransactionCustomers(trx, parties, { rounds: [] });
    for (const { w, seq, customerType } of infoNeeded) {
      for (const message of infoNeededMessages(facts, partiesOf(w), customerType, seq, deps.sep12)) {
        effects.push({
          transactionId: w.id,
          seq,
          kind: 'actor_message',
          payload: actorMessagePayload(message),
          idempotencyKey: `actor-message:${message.id}`,
        });
      }
    }
  }

  // 4. Write -----------------------------------------------------------------------------------------
  const writes = (list: Working[]): TransactionWrite[] =>
    list.map((w) => ({
      id: w.id,
      expectedVersion: w.readVersion,
      version: w.version,
      status: w.status,
      persisted: w.persisted,
      callbackUrl: w.callbackUrl,
      idempotency: w.isNew ? (keyed.get(w.id)?.idempotency ?? null) : null,
    }));
  const dirty = [...working.values()].filter((w) => w.dirty);
  const changed = dirty.filter((w) => !w.isNew);
  // The fence first: a lost race must stop the batch before anything else is written.
  const written = await updateTransactions(trx, writes(changed));
  const lost = changed.filter((w) => !written.has(w.id));
  if (lost.length > 0) throw new VersionConflictError(lost[0]!.id, lost[0]!.readVersion);
  // The quotes new transactions are on, taken in the same database transaction that creates them.
  const claimed = await claimQuotes(trx, claims);
  const taken = claims.filter((claim) => !claimed.has(claim.quoteId));
  if (taken.length > 0) throw new QuoteClaimLostError(taken.map((claim) => claim.quoteId));
  // The rest in one statement: new rows, the per-state counts, events and effects.
  await writeTogether(trx, [
    insertTransactionsQuery(trx, writes(dirty.filter((w) => w.isNew))),
    moveStateCountsQuery({
      leaving: changed.map((w) => w.readState!),
      entering: dirty.map((w) => ({ status: w.status, stateValue: w.snapshot.value })),
    }),
    appendEventsQuery(trx, events),
    insertEffectsQuery(trx, effects),
  ]);
  await recordUnmatchedPayments(trx, unmatched);
  await recordRefusedMessages(trx, refusals);
  for (const flag of flags) await flagCustomerFields(trx, flag);

  const states = new Map<string, CachedTransaction>();
  for (const w of working.values()) {
    states.set(w.id, {
      version: w.version,
      status: w.status,
      snapshot: w.snapshot,
      callbackUrl: w.callbackUrl,
    });
  }
  return { answers, effectKinds: new Set(effects.map((e) => e.kind)), states };
}

/** What a keyed create is checked against: who created the transaction, with which key and body. */
interface KeyedTransaction {
  sendingAnchor: string;
  status: TransactionStatus;
  idempotency: Idempotency | null;
}

function isKeyedCreate(body: TransactionMessageBody | null | undefined): boolean {
  return body?.type === 'create' && body.idempotency !== undefined;
}

/** The answer to a keyed create whose transaction exists: its request hash if the same key made it. */
function existsAnswer(
  id: string,
  existing: KeyedTransaction,
  sendingAnchor: string,
  idempotency: Idempotency,
): TransactionReply {
  const sameKey = existing.sendingAnchor === sendingAnchor && existing.idempotency?.key === idempotency.key;
  return {
    outcome: 'refused',
    code: 'exists',
    reason: `transaction ${id} exists`,
    status: existing.status,
    accepts: [],
    requestHash: sameKey ? existing.idempotency!.requestHash : null,
  };
}

function notFound(item: TransactionItem): Refusal {
  return { code: 'not_found', reason: `transaction not found: ${item.transactionId}` };
}

function fromCache(id: string, hot: CachedTransaction): Working {
  return {
    id,
    isNew: false,
    readVersion: hot.version,
    readState: { status: hot.status, stateValue: hot.snapshot.value },
    version: hot.version,
    status: hot.status,
    snapshot: hot.snapshot,
    persisted: persist(hot.snapshot),
    callbackUrl: hot.callbackUrl,
    dirty: false,
    customersChanged: false,
  };
}

function answer(w: Working): TransactionReply {
  return { outcome: 'applied', status: w.status, version: w.version };
}

function partiesOf(w: Working): TransactionParties {
  const c = w.persisted.context;
  return { id: w.id, sendingAnchor: c.sendingAnchor, senderId: c.senderId, receiverId: c.receiverId };
}

function isReady(snapshot: TransactionSnapshot): boolean {
  return snapshot.matches({ pending_receiver: 'ready' });
}

function assignedMemo(then: readonly TransactionEvent[]): MemoKey | null {
  const assigned = then.find((event) => event.type === 'ACCOUNT_ASSIGNED');
  if (!assigned || assigned.type !== 'ACCOUNT_ASSIGNED') return null;
  return {
    account: assigned.stellarAccountId,
    memoType: assigned.stellarMemoType,
    memo: assigned.stellarMemo,
  };
}

/** Why an uncredited payment is stored as unmatched (the reasons of `src/watcher/README.md`). */
function unmatchedReason(refusal: Refusal, status: TransactionStatus | null): string {
  switch (refusal.code) {
    case 'not_found':
      return 'unknown_memo';
    case 'already_credited':
      return 'already_credited';
    default:
      if (status === 'expired') return 'expired';
      return status === 'pending_sender' ? 'rejected' : 'not_pending_sender';
  }
}

/** A throw while stepping (a bug, a malformed event) refuses that one message instead of the batch. */
function safely(work: () => Refusal | null): Refusal | null {
  try {
    return work();
  } catch (error) {
    return { code: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}
