/**
 * What travels to actors on the bus: the addresses, the message bodies each kind of actor takes, and the
 * answers its host sends back to a request. Producers build messages with the helpers here; the hosts
 * check every body against these schemas, so a malformed message is refused and recorded, never a crash.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type {
  CustomerEvent,
  TransactionEvent,
  TransactionEventType,
  TransactionInput,
  TransactionStatus,
} from '../../machines/index.ts';
import type { BusMessage } from '../bus/index.ts';
import type { StateValue } from '../db/transactions.table.ts';
import type { Idempotency } from '../db/transactions.repository.ts';

export type { Idempotency };

// ---------------------------------------------------------------------------------------------------------
// Addresses

export type ActorAddress =
  | { kind: 'transaction'; id: string }
  | { kind: 'customer'; account: string; memo: string | null }
  | { kind: 'quote'; id: string };

/** `transaction:<id>`: one transaction actor. */
export function transactionAddress(id: string): string {
  return `transaction:${id}`;
}

/**
 * `customer:<account>:<memo>`: one SEP-12 customer, keyed as SEP-12 keys it (the sending anchor's base
 * account and the memo it registered the customer under; empty for none).
 */
export function customerAddress(account: string, memo: string | null): string {
  return `customer:${account}:${memo ?? ''}`;
}

/** `quote:<id>`: one firm SEP-38 quote. */
export function quoteAddress(id: string): string {
  return `quote:${id}`;
}

/** The actor an address names, or null for an address no host knows. */
export function parseAddress(address: string): ActorAddress | null {
  if (address.startsWith('transaction:')) {
    const id = address.slice('transaction:'.length);
    return id === '' ? null : { kind: 'transaction', id };
  }
  if (address.startsWith('customer:')) {
    const rest = address.slice('customer:'.length);
    const colon = rest.indexOf(':');
    if (colon <= 0) return null;
    const memo = rest.slice(colon + 1);
    return { kind: 'customer', account: rest.slice(0, colon), memo: memo === '' ? null : memo };
  }
  if (address.startsWith('quote:')) {
    const id = address.slice('quote:'.length);
    return id === '' ? null : { kind: 'quote', id };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Transaction messages

const Json = Type.Unknown();
const TransactionEventSchema = Type.Object(
  { type: Type.String(), at: Type.String() },
  { additionalProperties: true },
);

/** What the host needs to store a payment it could not credit (the actor decides some of those cases). */
export const UnmatchedPaymentInfo = Type.Object({
  operationId: Type.String(),
  transactionHash: Type.String(),
  account: Type.String(),
  fromAccount: Type.Union([Type.String(), Type.Null()]),
  amount: Type.String(),
  assetCode: Type.String(),
  assetIssuer: Type.Union([Type.String(), Type.Null()]),
  memoType: Type.Union([Type.String(), Type.Null()]),
  memo: Type.Union([Type.String(), Type.Null()]),
  /**
   * The source record, kept with the unmatched payment when given. Payment sources leave it out of
   * credits (it would triple every message for the rare refusal; the columns above identify it).
   */
  record: Type.Optional(Json),
});
export type UnmatchedPaymentInfo = Static<typeof UnmatchedPaymentInfo>;

export const TransactionMessageSchema = Type.Union([
  /** A machine event; the message id is its event id. */
  Type.Object({
    type: Type.Literal('event'),
    event: TransactionEventSchema,
    /** PAYMENT_RECEIVED only: stored as unmatched if the actor cannot take the payment. */
    unmatched: Type.Optional(UnmatchedPaymentInfo),
    /** The operator who sent it (the operator API): recorded with the event. */
    operator: Type.Optional(Type.String({ minLength: 1 })),
  }),
  /** POST /transactions: the transaction with its first events (the receiving account and memo). */
  Type.Object({
    type: Type.Literal('create'),
    input: Type.Object({ id: Type.String(), sendingAnchor: Type.String() }, { additionalProperties: true }),
    then: Type.Array(TransactionEventSchema),
    /** The requester gave up at this instant (ISO 8601): a create arriving later is refused. */
    notAfter: Type.Union([Type.String(), Type.Null()]),
    /**
     * A POST with an `Idempotency-Key` (its id derived from the key): a create whose id exists is answered
     * `exists` with the stored request hash, never applied twice.
     */
    idempotency: Type.Optional(
      Type.Object({ key: Type.String({ minLength: 1 }), requestHash: Type.String({ minLength: 1 }) }),
    ),
  }),
  /** PUT /transactions/:id/callback. */
  Type.Object({
    type: Type.Literal('register_callback'),
    sendingAnchor: Type.String(),
    url: Type.String(),
  }),
  /** A customer of the transaction changed: the host re-checks what waits on customers (payout, info). */
  Type.Object({ type: Type.Literal('customers_changed'), at: Type.String() }),
]);
export type TransactionMessageBody =
  | { type: 'event'; event: TransactionEvent; unmatched?: UnmatchedPaymentInfo; operator?: string }
  | {
      type: 'create';
      input: TransactionInput;
      then: TransactionEvent[];
      notAfter: string | null;
      idempotency?: Idempotency;
    }
  | { type: 'register_callback'; sendingAnchor: string; url: string }
  | { type: 'customers_changed'; at: string };

/** Why a transaction actor did not apply a message. */
export type RefusalCode =
  /** The state does not take the event (or its guards say no). */
  | 'rejected'
  | 'not_found'
  /** `create` for an id that exists (from another create). */
  | 'exists'
  /** `create` whose receiving account and memo another transaction has. */
  | 'memo_taken'
  /** `create` that arrived after the requester's deadline. */
  | 'late'
  /** `create` on a firm quote another transaction has taken. */
  | 'quote_used'
  /** `create` on a quote that is gone or expired. */
  | 'quote_invalid'
  /** PAYMENT_RECEIVED whose operation is credited to another transaction. */
  | 'already_credited'
  /** Not the sending anchor of the transaction. */
  | 'forbidden'
  | 'malformed'
  /** Applying it failed for a reason retrying cannot fix (a bug, a broken invariant): recorded, skipped. */
  | 'failed';

export type TransactionReply =
  | { outcome: 'applied' | 'duplicate'; status: TransactionStatus; version: number }
  | {
      outcome: 'refused';
      code: RefusalCode;
      reason: string;
      status: TransactionStatus | null;
      /** The full state (sub-states included) the transaction is in, when it exists. */
      state?: StateValue | null;
      /** The event types the current state handles (its guards may still say no). */
      accepts: TransactionEventType[];
      /**
       * `exists` for a create with an idempotency key: the request hash the transaction was created with
       * (null: created without a key, or under another key or sending anchor).
       */
      requestHash?: string | null;
    };

/** A machine event for a transaction; `id` is the event id (its idempotency key). */
export function transactionEventMessage(
  transactionId: string,
  id: string,
  event: TransactionEvent,
  unmatched?: UnmatchedPaymentInfo,
  operator?: string,
): BusMessage {
  const body: TransactionMessageBody = {
    type: 'event',
    event,
    ...(unmatched && { unmatched }),
    ...(operator !== undefined && { operator }),
  };
  return { id, to: transactionAddress(transactionId), body };
}

/** The id of the create message of a transaction (its first event id too). */
export function createMessageId(transactionId: string): string {
  return `create:${transactionId}`;
}

export function createTransactionMessage(
  input: TransactionInput,
  then: TransactionEvent[],
  notAfter: Date | null,
  idempotency?: Idempotency,
): BusMessage {
  const body: TransactionMessageBody = {
    type: 'create',
    input,
    then,
    notAfter: notAfter === null ? null : notAfter.toISOString(),
    ...(idempotency && { idempotency }),
  };
  return { id: createMessageId(input.id), to: transactionAddress(input.id), body };
}

/** Each call is a new message (no de-duplication across calls): a later check must not be dropped. */
export function customersChangedMessage(transactionId: string, at: Date, nonce: string): BusMessage {
  const body: TransactionMessageBody = { type: 'customers_changed', at: at.toISOString() };
  return { id: `customers-changed:${transactionId}:${nonce}`, to: transactionAddress(transactionId), body };
}

const transactionMessage = Compile(TransactionMessageSchema);

export function isTransactionMessage(body: unknown): body is TransactionMessageBody {
  return transactionMessage.Check(body);
}

// ---------------------------------------------------------------------------------------------------------
// Customer messages

/**
 * A file the sending anchor uploaded, staged before the command (`src/storage/uploads.ts`): a bus message
 * is at most 1 MB and a SEP-12 upload several MB, so only this reference travels (claim check).
 */
export const UploadRefSchema = Type.Object({
  /** The staged upload's id. */
  id: Type.String({ minLength: 1 }),
  /** The SEP-9 binary field it is for. */
  field: Type.String({ minLength: 1 }),
  sha256: Type.String({ minLength: 64, maxLength: 64 }),
  size: Type.Integer({ minimum: 0 }),
  contentType: Type.String(),
  filename: Type.Union([Type.String(), Type.Null()]),
});
export type UploadRef = Static<typeof UploadRefSchema>;

const CustomerEventSchema = Type.Object(
  { type: Type.String(), at: Type.String() },
  { additionalProperties: true },
);

export const CustomerMessageSchema = Type.Union([
  /** PUT /customer: SEP-9 values (text, and staged files by reference). */
  Type.Object({
    type: Type.Literal('put'),
    /** The `id` the request named: the customer at the address must be this one. Null: find or create. */
    customerId: Type.Union([Type.String(), Type.Null()]),
    customerType: Type.Union([Type.String(), Type.Null()]),
    /** With `customerType`: the customer becomes the transaction's customer of that type. */
    transactionId: Type.Union([Type.String(), Type.Null()]),
    fields: Type.Record(Type.String(), Type.String()),
    files: Type.Array(UploadRefSchema),
    /** `<field>_verification` codes, by field name. */
    verifications: Type.Record(Type.String(), Type.String()),
  }),
  /** PUT /customer/callback (the URL is checked by the sender). */
  Type.Object({
    type: Type.Literal('register_callback'),
    customerId: Type.Union([Type.String(), Type.Null()]),
    url: Type.String(),
  }),
  /** DELETE /customer/:account: only the customer with this id (a replay cannot delete a newer one). */
  Type.Object({ type: Type.Literal('delete'), customerId: Type.String() }),
  /** A verdict given later (an operator, an integration after a manual review) for one type. */
  Type.Object({
    type: Type.Literal('status_event'),
    customerId: Type.String(),
    customerType: Type.String(),
    event: CustomerEventSchema,
  }),
  /** A transaction asked for customer info again (CUSTOMER_INFO_NEEDED at `seq`): apply its round now. */
  Type.Object({ type: Type.Literal('info_needed'), transactionId: Type.String(), seq: Type.Integer() }),
  /** A review still owed (the integration was away, or left fields undecided): ask it again. */
  Type.Object({ type: Type.Literal('review'), customerId: Type.String() }),
]);
export type CustomerMessageBody =
  | {
      type: 'put';
      customerId: string | null;
      customerType: string | null;
      transactionId: string | null;
      fields: Record<string, string>;
      files: UploadRef[];
      verifications: Record<string, string>;
    }
  | { type: 'register_callback'; customerId: string | null; url: string }
  | { type: 'delete'; customerId: string }
  | { type: 'status_event'; customerId: string; customerType: string; event: CustomerEvent }
  | { type: 'info_needed'; transactionId: string; seq: number }
  | { type: 'review'; customerId: string };

/** Why a customer actor did not apply a message. */
export type CustomerRefusalCode =
  /** No customer at the address, or not the one the message names. */
  | 'not_found'
  /** A staged upload the message refers to is gone (swept, or never staged). */
  | 'upload_missing'
  /** The customer's files would take more than `sep12.uploads.maxCustomerBytes`. */
  | 'too_large'
  /** The customer's status for that type does not take the event. */
  | 'rejected'
  | 'malformed'
  /** The integration could not be reached (a deletion it must hear of): try again later. */
  | 'unavailable'
  | 'failed';

export type CustomerReply =
  | {
      outcome: 'applied';
      /** The customer the message was applied to (decided by the actor for a first PUT). */
      customerId: string;
      /** Its version after the message. */
      version: number;
      /** Whether anything was written. */
      changed: boolean;
    }
  | { outcome: 'refused'; code: CustomerRefusalCode; reason: string };

/** Asks a customer's actor for a review still owed; one id per attempt, so a repeated pass is a duplicate. */
export function customerReviewMessage(
  customer: { id: string; account: string; memo: string | null },
  attempt: number,
): BusMessage {
  const body: CustomerMessageBody = { type: 'review', customerId: customer.id };
  return {
    id: `customer-review:${customer.id}:${attempt}`,
    to: customerAddress(customer.account, customer.memo),
    body,
  };
}

/** The message a transaction sends each customer it asks for information again. */
export function customerInfoNeededMessage(
  customer: { id: string; account: string; memo: string | null },
  transactionId: string,
  seq: number,
): BusMessage {
  const body: CustomerMessageBody = { type: 'info_needed', transactionId, seq };
  return {
    id: `customer-info-needed:${transactionId}:${seq}:${customer.id}`,
    to: customerAddress(customer.account, customer.memo),
    body,
  };
}

const customerMessage = Compile(CustomerMessageSchema);

export function isCustomerMessage(body: unknown): body is CustomerMessageBody {
  return customerMessage.Check(body);
}

// ---------------------------------------------------------------------------------------------------------
// Quote messages

const Text = Type.String();
const OptionalText = Type.Union([Type.String(), Type.Null()]);

/** A firm quote as `POST /quote` priced it; the actor stores it under its address's id. */
export const QuoteMessageSchema = Type.Object({
  type: Type.Literal('create'),
  quote: Type.Object({
    account: Text,
    memo: OptionalText,
    context: Text,
    sellAsset: Text,
    sellAmount: Text,
    sellDeliveryMethod: OptionalText,
    buyAsset: Text,
    buyAmount: Text,
    buyDeliveryMethod: OptionalText,
    countryCode: OptionalText,
    price: Text,
    totalPrice: Text,
    fee: Type.Object({
      total: Text,
      asset: Text,
      details: Type.Optional(
        Type.Array(Type.Object({ name: Text, description: Type.Optional(Text), amount: Text })),
      ),
    }),
    expiresAt: Text,
    createdAt: Text,
  }),
});
export type QuoteMessageBody = Static<typeof QuoteMessageSchema>;

export type QuoteReply =
  | {
      outcome: 'applied';
      quoteId: string;
      /** False when the quote existed already (a repeated create changes nothing). */
      created: boolean;
    }
  | { outcome: 'refused'; code: 'malformed' | 'exists'; reason: string };

const quoteMessage = Compile(QuoteMessageSchema);

export function isQuoteMessage(body: unknown): body is QuoteMessageBody {
  return quoteMessage.Check(body);
}
