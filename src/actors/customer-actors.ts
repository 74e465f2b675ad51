/**
 * SEP-12 customers as actors of the actor host, one per (account, memo) at `customer:<account>:<memo>`.
 * Everything that changes a customer happens here, inside the host's database transaction:
 *
 * - `put` (PUT /customer): finds or creates the customer (the actor decides its id), links it to a
 *   transaction, applies the `pending_customer_info_update` rounds waiting for it (so this request's
 *   fields answer them), stores the fields (staged files are taken into `customer_files`), feeds every
 *   type's customer machine and asks the `CustomerIntegration` for a verdict.
 * - `register_callback`, `delete`; `status_event`: a verdict given later (operator, manual review).
 * - `info_needed`: a transaction asked for customer info again; its round is applied now.
 * - `review`: a review still owed is asked again (`recheck`). A review the integration could not give (it
 *   threw: the business server is away) leaves the fields PROCESSING, the PUT is stored all the same, and
 *   the review is owed (`customer_reviews_due`, with backoff) until one decides every field.
 *
 * Every change is written with version + 1 (checked against the version read: the fence against another
 * writer) and a `customer_status_changed` effect per type whose status changed (when a callback URL is
 * registered). The transactions waiting on a customer that changed are told (`customers_changed` as
 * `actor_message` effects, in the same database transaction); they decide about themselves.
 *
 * Nothing here commits or replies: the host does that once the commit succeeded.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import {
  customerStatusOf,
  persistCustomer,
  stepCustomer,
  stepCustomerAll,
  worstStatus,
  type CustomerEvent,
  type CustomerSnapshot,
  type PersistedCustomer,
} from '../../machines/index.ts';
import type { Delivery } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import {
  customerKeyText,
  deleteCustomer,
  findCustomersByKeys,
  insertCustomer,
  linkCustomerToTransaction,
  markInfoRequestApplied,
  readCustomerFile,
  saveCustomerFileFromUpload,
  setCustomerCallbackUrl,
  updateCustomer,
  waitingTransactionIds,
  type CustomerKey,
  type CustomerRecord,
} from '../db/customers.repository.ts';
import type { StoredCustomerField } from '../db/customers.table.ts';
import { clearReview, scheduleReview } from '../db/customer-reviews.repository.ts';
import type { Database } from '../db/database.ts';
import { insertEffects, type NewOutboxEffect } from '../db/outbox.repository.ts';
import { recordRefusedMessages, type RefusedMessage } from '../db/refused-messages.repository.ts';
import { actorMessagePayload, type CustomerStatusChangedPayload } from '../effects/payloads.ts';
import { businessEventEffects, customerEvent, type BusinessEventKind } from '../effects/business-events.ts';
import type {
  CustomerFieldValue,
  CustomerIntegration,
  CustomerReview,
} from '../integrations/customer-integration.ts';
import { createReferenceCustomerIntegration } from '../integrations/reference/customers.ts';
import { dropStagedUploads, findStagedUploads, readStagedUpload } from '../storage/uploads.ts';
import { customerView, snapshotFor, type CustomerTypes } from '../views/sep12-customer.ts';
import type { ActorKind } from './actor-host.ts';
import { applyRound, readPendingRounds } from './customer-rounds.ts';
import { VersionConflictError } from './errors.ts';
import {
  customersChangedMessage,
  isCustomerMessage,
  parseAddress,
  type CustomerMessageBody,
  type CustomerRefusalCode,
  type CustomerReply,
  type UploadRef,
} from './messages.ts';

/** The outbox kind of a customer's status change; `src/effects/sep12-callbacks.ts` delivers it. */
export const CUSTOMER_STATUS_CHANGED = 'customer_status_changed';

export interface CustomerActorsOptions {
  sep12: Config['sep12'];
  /** SEP-12 decisions; defaults to the reference integration (format checks). */
  integration?: CustomerIntegration;
  clock?: () => Date;
  /** Where a review or deletion the integration could not take is reported. */
  log?: { warn(object: object, message: string): void };
  /** Outbox kinds of business events (`businessEventKinds(config)`): a `customer_updated` per change. */
  eventKinds?: readonly BusinessEventKind[];
}

type PutBody = Extract<CustomerMessageBody, { type: 'put' }>;

/** One customer as the batch works on it; `record` is null while there is none. */
interface Working {
  address: string;
  key: CustomerKey;
  record: CustomerRecord | null;
}

type FieldInput = { kind: 'text'; value: string } | { kind: 'file'; ref: UploadRef };

export function createCustomerActors(options: CustomerActorsOptions): ActorKind {
  const types: CustomerTypes = options.sep12.types;
  const integration = options.integration ?? createReferenceCustomerIntegration();
  const clock = options.clock ?? (() => new Date());
  const requiredOf = (type: string) => types[type]?.fields ?? [];
  const log = options.log;

  return { apply };

  async function apply(
    trx: Transaction<Database>,
    items: readonly { delivery: Delivery; address: string }[],
  ): Promise<{ answers: CustomerReply[]; effectKinds: ReadonlySet<string> }> {
    const at = clock();
    const effects: NewOutboxEffect[] = [];
    const refusals: RefusedMessage[] = [];
    /** Customers whose transactions must re-check them. */
    const touched = new Set<string>();

    const keys = new Map<string, CustomerKey>();
    for (const { address } of items) {
      const parsed = parseAddress(address);
      if (parsed?.kind === 'customer') keys.set(address, { account: parsed.account, memo: parsed.memo });
    }
    const stored = await findCustomersByKeys(trx, [...keys.values()]);
    const working = new Map<string, Working>();
    for (const [address, key] of keys) {
      working.set(address, { address, key, record: stored.get(customerKeyText(key)) ?? null });
    }

    const answers: CustomerReply[] = [];
    for (const { delivery, address } of items) {
      const w = working.get(address);
      const body = delivery.message.body;
      if (w === undefined || !isCustomerMessage(body)) {
        const reason = w === undefined ? `not a customer address: ${address}` : 'not a customer message';
        refusals.push({
          actor: address,
          messageId: delivery.message.id,
          kind: 'malformed',
          code: 'malformed',
          reason,
          payload: body,
        });
        answers.push(refused('malformed', reason));
        continue;
      }
      answers.push(await handle(w, body));
    }

    if (touched.size > 0) {
      for (const transactionId of await waitingTransactionIds(trx, [...touched])) {
        const message = customersChangedMessage(transactionId, at, randomUUID());
        effects.push({
          transactionId: null,
          seq: null,
          kind: 'actor_message',
          payload: actorMessagePayload(message),
          idempotencyKey: `actor-message:${message.id}`,
        });
      }
    }
    await insertEffects(trx, effects);
    await recordRefusedMessages(trx, refusals);
    return { answers, effectKinds: new Set(effects.map((e) => e.kind)) };

    // -------------------------------------------------------------------------------------------------
    // Messages

    async function handle(w: Working, body: CustomerMessageBody): Promise<CustomerReply> {
      switch (body.type) {
        case 'put':
          return put(w, body);
        case 'register_callback': {
          const customer = named(w, body.customerId);
          if (customer === null) return notFound(w);
          if (customer.callbackUrl === body.url) return applied(customer, false);
          await setCustomerCallbackUrl(trx, customer.id, body.url);
          w.record = { ...customer, callbackUrl: body.url };
          return applied(w.record, true);
        }
        case 'delete': {
          const customer = named(w, body.customerId);
          if (customer === null) return notFound(w);
          if (integration.deleted) {
            try {
              await integration.deleted({ id: customer.id, account: customer.account, memo: customer.memo });
            } catch (error) {
              log?.warn({ err: error, customerId: customer.id }, 'the integration could not take a deletion');
              return refused('unavailable', 'the business server could not be told; try again shortly');
            }
          }
          await deleteCustomer(trx, customer.id);
          w.record = null;
          return applied(customer, true);
        }
        case 'status_event': {
          const customer = named(w, body.customerId);
          if (customer === null) return notFound(w);
          if (!Object.hasOwn(types, body.customerType)) {
            return refused('malformed', `unknown customer type: ${body.customerType}`);
          }
          const type = body.customerType;
          const result = stepSafely(
            snapshotFor(customer, type, requiredOf(type), at.toISOString()),
            body.event,
          );
          if (!result.accepted) return refused(result.code, result.reason);
          const statuses = { ...customer.statuses, [type]: persistCustomer(result.snapshot) };
          await writeChange(w, { ...customer, statuses });
          touched.add(customer.id);
          return applied(w.record!, true);
        }
        case 'info_needed': {
          const customer = w.record;
          if (customer === null) return notFound(w);
          const changed = await applyRounds(w);
          if (changed) touched.add(customer.id);
          return applied(w.record!, changed);
        }
        case 'review': {
          const customer = named(w, body.customerId);
          if (customer === null) return notFound(w);
          const changed = await recheck(w);
          if (changed) touched.add(customer.id);
          return applied(w.record!, changed);
        }
      }
    }

    /** Asks again about every type's fields still awaiting a verdict. True when a verdict changed anything. */
    async function recheck(w: Working): Promise<boolean> {
      const before = w.record!;
      const stamp = at.toISOString();
      const reviews = new ReviewTally();
      // Nothing left to ask (decided meanwhile) also ends what was owed.
      reviews.asked = true;
      const statuses: Record<string, PersistedCustomer> = { ...before.statuses };
      for (const t of Object.keys(types)) {
        const snapshot = await review(
          snapshotFor(before, t, requiredOf(t), stamp),
          {
            before,
            fields: before.fields,
            verifications: {},
            transactionId: null,
            files: [],
            stamp,
            recheck: true,
          },
          reviews,
        );
        statuses[t] = keepIfSame(before.statuses[t], persistCustomer(snapshot));
      }
      await settleReview(before, reviews);
      if (Object.keys(types).every((t) => before.statuses[t] === statuses[t])) return false;
      await writeChange(w, { ...before, statuses });
      return true;
    }

    /** Records whether a review is still owed for the customer (or no longer). */
    async function settleReview(customer: CustomerRecord, reviews: ReviewTally): Promise<void> {
      if (reviews.owed) await scheduleReview(trx, customer, at);
      else if (reviews.asked) await clearReview(trx, customer.id);
    }

    async function put(w: Working, body: PutBody): Promise<CustomerReply> {
      if (body.customerId !== null && named(w, body.customerId) === null) return notFound(w);
      // Checked before anything is written: a refused PUT leaves no customer behind.
      const staged = await findStagedUploads(
        trx,
        body.files.map((file) => file.id),
      );
      for (const file of body.files) {
        const upload = staged.get(file.id);
        if (
          !upload ||
          upload.account !== w.key.account ||
          upload.sha256 !== file.sha256 ||
          upload.size !== file.size
        ) {
          return refused('upload_missing', `the upload of ${file.field} is gone; send it again`);
        }
      }
      const maxCustomerBytes = options.sep12.uploads.maxCustomerBytes;
      if (body.files.length > 0 && storedBytesAfter(w.record, body.files) > maxCustomerBytes) {
        // Never taken: the staged files go now rather than with the sweep.
        await dropStagedUploads(
          trx,
          body.files.map((file) => file.id),
        );
        return refused(
          'too_large',
          `the customer's files would total more than ${maxCustomerBytes} bytes, the cap per customer`,
        );
      }
      let changed = false;
      if (w.record === null) {
        const created = await insertCustomer(trx, w.key, { id: randomUUID(), at });
        // Another writer stored a customer under this key since it was read: retry the batch.
        if (!created) throw new VersionConflictError(w.address, 0);
        w.record = created;
        changed = true;
      }
      const customerId = w.record.id;
      if (body.transactionId !== null && body.customerType !== null) {
        await linkCustomerToTransaction(trx, {
          transactionId: body.transactionId,
          type: body.customerType,
          customerId,
          at,
        });
        changed = true;
      }
      // Ask for what a waiting transaction needs first, so this request's fields answer it.
      changed = (await applyRounds(w)) || changed;
      changed = (await putFields(w, body)) || changed;
      await dropStagedUploads(
        trx,
        body.files.map((file) => file.id),
      );
      if (changed) touched.add(customerId);
      return applied(w.record, changed);
    }

    // -------------------------------------------------------------------------------------------------
    // Fields

    /** Stores the fields of a PUT, feeds every type's machine, asks the integration. True when written. */
    async function putFields(w: Working, body: PutBody): Promise<boolean> {
      const before = w.record!;
      const stamp = at.toISOString();
      const values = new Map<string, FieldInput>();
      for (const [name, value] of Object.entries(body.fields)) values.set(name, { kind: 'text', value });
      for (const ref of body.files) values.set(ref.field, { kind: 'file', ref });

      const fields: Record<string, StoredCustomerField> = { ...before.fields };
      const moves: { id: string; field: string; uploadId: string }[] = [];
      const changed: string[] = [];
      for (const [name, value] of values) {
        const current = before.fields[name];
        if (value.kind === 'text') {
          if (current?.kind === 'text' && current.value === value.value) continue;
          fields[name] = { kind: 'text', value: value.value };
        } else {
          const { ref } = value;
          if (
            current?.kind === 'file' &&
            current.sha256 === ref.sha256 &&
            current.contentType === ref.contentType
          ) {
            continue;
          }
          const fileId = randomUUID();
          moves.push({ id: fileId, field: name, uploadId: ref.id });
          fields[name] = {
            kind: 'file',
            fileId,
            contentType: ref.contentType,
            filename: ref.filename,
            size: ref.size,
            sha256: ref.sha256,
          };
        }
        changed.push(name);
      }

      const statuses: Record<string, PersistedCustomer> = { ...before.statuses };
      const reviews = new ReviewTally();
      for (const t of Object.keys(types)) {
        let snapshot = snapshotFor(before, t, requiredOf(t), stamp);
        // Sent again after a rejection counts even with the same value: it gets a new verdict.
        const resent = [...values.keys()].filter((name) => name in snapshot.context.rejected);
        const provided = [...new Set([...changed, ...resent])];
        if (provided.length > 0) {
          snapshot = stepCustomerAll(snapshot, [{ type: 'FIELDS_PROVIDED', at: stamp, fields: provided }]);
        }
        snapshot = await review(
          snapshot,
          {
            before,
            fields,
            verifications: body.verifications,
            transactionId: body.transactionId,
            files: body.files,
            stamp,
            recheck: false,
          },
          reviews,
        );
        statuses[t] = keepIfSame(before.statuses[t], persistCustomer(snapshot));
      }
      await settleReview(before, reviews);

      const type = body.customerType ?? before.type;
      const same =
        changed.length === 0 &&
        type === before.type &&
        Object.keys(types).every((t) => before.statuses[t] === statuses[t]);
      if (same) return false;
      for (const move of moves) {
        await saveCustomerFileFromUpload(trx, {
          id: move.id,
          customerId: before.id,
          field: move.field,
          uploadId: move.uploadId,
        });
      }
      await writeChange(w, { ...before, fields, statuses, type });
      return true;
    }

    /**
     * Asks the integration about fields awaiting a verdict and feeds its answer to the machine. An
     * integration that throws leaves them awaiting (PROCESSING); `reviews` notes that the review is owed.
     */
    async function review(
      snapshot: CustomerSnapshot,
      request: {
        before: CustomerRecord;
        fields: Record<string, StoredCustomerField>;
        verifications: Record<string, string>;
        transactionId: string | null;
        files: readonly UploadRef[];
        stamp: string;
        recheck: boolean;
      },
      reviews: ReviewTally,
    ): Promise<CustomerSnapshot> {
      if (snapshot.status !== 'active') return snapshot;
      const { context } = snapshot;
      const pending = context.received.filter(
        (name) => !context.verified.includes(name) && !(name in context.rejected),
      );
      const { before, fields, files, stamp } = request;
      if (pending.length === 0 && Object.keys(request.verifications).length === 0) return snapshot;
      reviews.asked = true;
      let verdict: CustomerReview;
      try {
        verdict = await integration.review({
          customer: { id: before.id, account: before.account, memo: before.memo },
          type: context.type,
          required: context.required,
          fields: fieldValues(fields),
          pending,
          verifications: request.verifications,
          transactionId: request.transactionId,
          recheck: request.recheck,
          readFile: async (field) => {
            const uploaded = files.find((file) => file.field === field);
            return uploaded ? readStagedUpload(trx, uploaded.id) : readCustomerFile(trx, before.id, field);
          },
        });
      } catch (error) {
        log?.warn(
          { err: error, customerId: before.id, type: context.type },
          'the customer review could not be had; its fields stay PROCESSING and it is asked again later',
        );
        reviews.owed = true;
        return snapshot;
      }
      const events: CustomerEvent[] = [];
      const verified = (verdict.verified ?? []).filter((name) => context.received.includes(name));
      if (verified.length > 0) events.push({ type: 'FIELDS_VERIFIED', at: stamp, fields: verified });
      const rejected = Object.fromEntries(
        Object.entries(verdict.rejected ?? {}).filter(([name]) => context.received.includes(name)),
      );
      if (Object.keys(rejected).length > 0) {
        events.push({
          type: 'FIELDS_REJECTED',
          at: stamp,
          errors: rejected,
          ...(verdict.message !== undefined && { message: verdict.message }),
        });
      }
      if (verdict.reject)
        events.push({ type: 'CUSTOMER_REJECTED', at: stamp, message: verdict.reject.message });
      const after = stepCustomerAll(snapshot, events);
      // Fields left without a verdict (PROCESSING) are asked about again later.
      if (
        after.status === 'active' &&
        after.context.received.some(
          (name) => !after.context.verified.includes(name) && !(name in after.context.rejected),
        )
      ) {
        reviews.owed = true;
      }
      return after;
    }

    // -------------------------------------------------------------------------------------------------
    // Rounds and writes

    /** Applies the rounds waiting for the customer, each once (recorded on its link). True when any was. */
    async function applyRounds(w: Working): Promise<boolean> {
      const customer = w.record!;
      const rounds = (await readPendingRounds(trx, [customer.id], types)).get(customer.id) ?? [];
      for (const round of rounds) {
        const statuses = applyRound(w.record!, round, types, at.toISOString());
        if (statuses !== null) await writeChange(w, { ...w.record!, statuses });
        await markInfoRequestApplied(trx, {
          transactionId: round.transactionId,
          type: round.type,
          customerId: customer.id,
          seq: round.seq,
          at,
        });
      }
      return rounds.length > 0;
    }

    /**
     * Writes `after` over the working customer if it is still at the version read (else the batch is
     * retried), with a `customer_status_changed` effect for every type whose status changed when a
     * callback URL is registered.
     */
    async function writeChange(
      w: Working,
      after: Pick<CustomerRecord, 'fields' | 'statuses' | 'type'>,
    ): Promise<void> {
      const before = w.record!;
      const stamp = at.toISOString();
      const statusOf = (record: Pick<CustomerRecord, 'fields' | 'statuses'>, type: string) =>
        customerStatusOf(snapshotFor(record, type, requiredOf(type), stamp));
      const mirrorType = after.type !== null && Object.hasOwn(types, after.type) ? after.type : null;
      const status =
        mirrorType !== null
          ? statusOf(after, mirrorType)
          : worstStatus(Object.keys(types).map((t) => statusOf(after, t)));
      const written = await updateCustomer(trx, before.id, before.version, {
        type: after.type,
        status,
        fields: after.fields,
        statuses: after.statuses,
        at,
      });
      if (!written) throw new VersionConflictError(w.address, before.version);
      const version = before.version + 1;
      w.record = { ...before, ...after, status, version, updatedAt: at };
      if (options.eventKinds?.length) {
        const statuses = Object.fromEntries(Object.keys(types).map((t) => [t, statusOf(after, t)]));
        const customer = { id: before.id, account: before.account, memo: before.memo, type: after.type };
        const event = customerEvent({ ...customer, status, statuses, version, updated_at: stamp }, at);
        effects.push(...businessEventEffects(event, options.eventKinds));
      }
      const url = before.callbackUrl;
      if (url === null) return;
      for (const type of Object.keys(types)) {
        const previousStatus = statusOf(before, type);
        const current = statusOf(after, type);
        if (current === previousStatus) continue;
        const payload: CustomerStatusChangedPayload = {
          kind: CUSTOMER_STATUS_CHANGED,
          customerId: before.id,
          type,
          status: current,
          previousStatus,
          version,
          url,
          body: customerView({ id: before.id, ...after }, type, types, stamp),
        };
        effects.push({
          transactionId: null,
          seq: null,
          kind: CUSTOMER_STATUS_CHANGED,
          payload,
          idempotencyKey: `sep12:${before.id}:${version}:${type}`,
        });
      }
    }
  }
}

/** Whether a customer's reviews in one message were asked, and whether one is still owed. */
class ReviewTally {
  asked = false;
  owed = false;
}

/** The customer at `w` if it is the one `customerId` names (any, for null); else null. */
function named(w: Working, customerId: string | null): CustomerRecord | null {
  const customer = w.record;
  if (customer === null || (customerId !== null && customer.id !== customerId)) return null;
  return customer;
}

/** A verdict from outside may be malformed beyond its `type` and `at`: refused, never a failed batch. */
function stepSafely(snapshot: CustomerSnapshot, event: CustomerEvent) {
  try {
    const result = stepCustomer(snapshot, event);
    return result.accepted
      ? result
      : { accepted: false as const, code: 'rejected' as const, reason: result.reason };
  } catch (error) {
    const reason = `not a customer event: ${error instanceof Error ? error.message : String(error)}`;
    return { accepted: false as const, code: 'malformed' as const, reason };
  }
}

function applied(customer: CustomerRecord, changed: boolean): CustomerReply {
  return { outcome: 'applied', customerId: customer.id, version: customer.version, changed };
}

/** The bytes of a customer's files once `files` replace those of their fields. */
function storedBytesAfter(customer: CustomerRecord | null, files: readonly UploadRef[]): number {
  const sizes = new Map<string, number>();
  for (const [name, field] of Object.entries(customer?.fields ?? {})) {
    if (field.kind === 'file') sizes.set(name, field.size);
  }
  for (const file of files) sizes.set(file.field, file.size);
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}

function refused(code: CustomerRefusalCode, reason: string): CustomerReply {
  return { outcome: 'refused', code, reason };
}

function notFound(w: Working): CustomerReply {
  return refused('not_found', `no such customer at ${w.address}`);
}

function fieldValues(fields: Record<string, StoredCustomerField>): Record<string, CustomerFieldValue> {
  const values: Record<string, CustomerFieldValue> = {};
  for (const [name, field] of Object.entries(fields)) {
    values[name] =
      field.kind === 'text'
        ? { kind: 'text', value: field.value }
        : {
            kind: 'file',
            contentType: field.contentType,
            filename: field.filename,
            size: field.size,
            sha256: field.sha256,
          };
  }
  return values;
}

/** The stored snapshot when only its time stamp moved: an idempotent PUT changes nothing. */
function keepIfSame(before: PersistedCustomer | undefined, after: PersistedCustomer): PersistedCustomer {
  if (before === undefined) return after;
  const strip = (p: PersistedCustomer) =>
    JSON.stringify({ ...p, context: { ...p.context, updatedAt: null } });
  return strip(before) === strip(after) ? before : after;
}
