/**
 * SEP-12 (v1.15.0) KYC API for sending anchors: `GET /customer`, `PUT /customer` (JSON, form and multipart
 * with binary fields), `PUT /customer/callback` and `DELETE /customer/:account`.
 *
 * Identity: customers are keyed by the SEP-10 token's account and a memo. A token bound to a memo
 * (`G...:<memo>` or `M...`) works only with that memo; a plain `G...` token may register any number of
 * customers under memos of its choice. Another sending anchor's customer (or transaction) is a 404.
 * Auth failures are 403 on every endpoint (SEP-31's choice; SEP-12 allows 401 or 403); a token of an
 * account that is not a configured sending anchor is also 403.
 *
 * Status: one customer machine per configured type (`machines/customer`), fed by what the sending anchor
 * sends and by the `CustomerIntegration`'s verdicts. Every status change is written with an outbox effect
 * (`customer_status_changed`) in the same database transaction, when a callback URL is registered.
 *
 * SEP-31 (`pending_customer_info_update`, SEPS.md §5.5): when a transaction the customer takes part in
 * asks for customer info again, the fields the rails flagged (`flagCustomerFields`, else all of the type's
 * fields) become REJECTED for that type, so `GET /customer` answers NEEDS_INFO listing them; once the
 * customer is ACCEPTED again the transaction gets CUSTOMER_INFO_UPDATED and goes back to `pending_receiver`.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md
 */
import { createHash, randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MuxedAccount, StrKey } from '@stellar/stellar-sdk';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import {
  customerStatusOf,
  describeSep9Field,
  isSep9Field,
  persistCustomer,
  stepCustomer,
  stepCustomerAll,
  worstStatus,
  type CustomerEvent,
  type CustomerSnapshot,
  type CustomerStatus,
  type PersistedCustomer,
} from '../../machines/index.ts';
import { EventRejectedError, TransactionNotFoundError } from '../actors/errors.ts';
import { insertEffects, type NewOutboxEffect } from '../db/index.ts';
import {
  customerIdOfTransaction,
  deleteCustomer,
  findCustomerById,
  findCustomerByKey,
  findCustomerTransactionLink,
  findOrCreateCustomer,
  latestCustomerInfoRequest,
  linkCustomerToTransaction,
  markInfoRequestApplied,
  ownsCustomer,
  pendingInfoTransactionIds,
  readCustomerFile,
  saveCustomerFile,
  setCustomerCallbackUrl,
  updateCustomer,
  type CustomerRecord,
  type NewCustomerFile,
} from '../db/customers.repository.ts';
import type { StoredCustomerField } from '../db/customers.table.ts';
import type { Executor, TransactionRow } from '../db/index.ts';
import { findTransaction } from '../db/transactions.repository.ts';
import { checkCallbackUrl, type ResolveHost } from '../effects/callback-url.ts';
import { MooringError } from '../errors.ts';
import type { CustomerFieldValue } from '../integrations/customer-integration.ts';
import { createReferenceCustomerIntegration } from '../integrations/reference/customers.ts';
import type { AppDeps } from './app.ts';
import { identityOf, requireSep10, type Sep10Identity } from './auth.ts';
import {
  CallbackBody,
  CustomerQuery,
  CustomerResponse,
  DeleteBody,
  DeleteParams,
  EmptyResponse,
  ErrorResponse,
  PutCustomerBody,
  PutCustomerResponse,
  customerView,
  snapshotFor,
  type CustomerBody,
  type CustomerTypes,
} from './sep12.schemas.ts';

/** The outbox kind of a customer's status change; `src/effects/sep12-callbacks.ts` delivers it. */
export const CUSTOMER_STATUS_CHANGED = 'customer_status_changed';

/** The outbox payload of a `customer_status_changed` effect. */
export interface CustomerStatusChangedEffect {
  kind: typeof CUSTOMER_STATUS_CHANGED;
  customerId: string;
  /** The customer type whose status changed. */
  type: string;
  status: CustomerStatus;
  previousStatus: CustomerStatus;
  /** The customer's version after the change. */
  version: number;
  /** The callback URL registered when the status changed. */
  url: string;
  /** `GET /customer?id=<customerId>&type=<type>` as of the change. */
  body: CustomerBody;
}

export type Sep12Deps = AppDeps & {
  /** Host resolution for callback URL checks (tests). */
  resolveHost?: ResolveHost;
};

const MAX_FILE_BYTES = 5 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESERVED = new Set(['id', 'account', 'memo', 'memo_type', 'type', 'transaction_id', 'lang']);
const MEMO_TYPES = new Set(['id', 'text', 'hash']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const bad = (message: string) => new MooringError('bad_request', message);
const forbidden = (message: string) => new MooringError('forbidden', message);
const customerNotFound = (id: string) => new MooringError('not_found', `customer not found for id: ${id}`);
const transactionNotFound = (id: string) =>
  new MooringError('not_found', `transaction not found for id: ${id}`);
const errors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const doc = { tags: ['SEP-12'], security: [{ sep10: [] }] };

interface Upload {
  field: string;
  contentType: string;
  filename: string | null;
  data: Uint8Array;
}

type FieldInput = { kind: 'text'; value: string } | { kind: 'file'; upload: Upload };

/** Binary parts of a multipart PUT, kept aside from the body the schema validates. */
const uploadsOf = new WeakMap<FastifyRequest, Upload[]>();

/**
 * Applies a change to one customer's status for one type, outside a `PUT /customer` (an operator, or an
 * integration giving a late verdict after a manual review). Writes the change and its callback effect
 * together; resumes transactions waiting for this customer. False when the event changed nothing.
 */
export type UpdateCustomerStatus = (
  customerId: string,
  type: string,
  event: CustomerEvent,
  log?: Logger,
) => Promise<boolean>;

/** Where problems that must not fail the request are reported (a Fastify/pino logger fits). */
export type Logger = Pick<FastifyBaseLogger, 'error'>;
const defaultLog: Logger = { error: (...args: unknown[]) => console.error(...args) } as Logger;

export async function sep12Routes(app: FastifyInstance, deps: Sep12Deps): Promise<void> {
  const { config, db } = deps;
  const types: CustomerTypes = config.sep12.types;
  const service = createCustomerService(deps);
  const { putFields, settle } = service;
  const now = () => deps.clock?.() ?? new Date();
  const sendingAnchors = new Set(config.sendingAnchors.flatMap((anchor) => anchor.signingKeys));

  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: MAX_FILE_BYTES, files: 10, fields: 200, fieldSize: 4000, parts: 210 },
  });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  // Authentication runs first (onRequest): an unauthenticated upload is refused before it is read.
  const authenticated = [
    requireSep10(config, { status: 403, ...(deps.clock && { clock: deps.clock }) }),
    async (request: FastifyRequest) => {
      const who = identity(request);
      if (!config.allowAnySendingAnchor && !sendingAnchors.has(who.account)) {
        throw forbidden('this account is not a registered sending anchor');
      }
    },
  ];

  // ---------------------------------------------------------------------------------------------------
  // Routes

  r.get(
    '/customer',
    {
      onRequest: authenticated,
      schema: {
        summary: "A customer's KYC status and the fields still needed",
        ...doc,
        querystring: CustomerQuery,
        response: { 200: CustomerResponse, ...errors },
      },
    },
    async (request) => {
      const who = identity(request);
      const query = cleanParams(request.query);
      const type = checkType(query.type);
      if (query.transaction_id !== undefined && type === null) throw bad('transaction_id requires type');
      const selection = selectionOf(who, query);
      const transaction =
        query.transaction_id !== undefined ? await ownedTransaction(who, query.transaction_id) : null;
      let customer = await resolveCustomer(who, query.id, selection, transaction, type);
      if (customer !== null && (await settle(customer.id, transaction, request.log))) {
        customer = (await findCustomerById(db, customer.id)) ?? null;
      }
      return service.view(customer, type);
    },
  );

  r.put(
    '/customer',
    {
      onRequest: authenticated,
      preValidation: readBody,
      schema: {
        summary: 'Register or update a customer with SEP-9 fields',
        ...doc,
        consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
        body: PutCustomerBody,
        response: { 202: PutCustomerResponse, ...errors },
      },
    },
    async (request, reply) => {
      const who = identity(request);
      const body = cleanParams(request.body as Record<string, unknown>);
      const type = checkType(body.type);
      if (body.transaction_id !== undefined && type === null) throw bad('transaction_id requires type');
      const selection = selectionOf(who, body);
      const input = parseFields(request.body as Record<string, unknown>, uploadsOf.get(request) ?? []);
      const transaction =
        body.transaction_id !== undefined ? await ownedTransaction(who, body.transaction_id) : null;

      const at = now();
      let customerId: string;
      if (body.id !== undefined) {
        const customer = await findCustomerById(db, body.id);
        if (!customer || !ownsCustomer(who, customer)) throw customerNotFound(body.id);
        customerId = customer.id;
      } else {
        const key = { account: who.account, memo: selection.memo };
        customerId = (await findOrCreateCustomer(db, key, { id: randomUUID(), at })).customer.id;
      }
      if (transaction !== null && type !== null) {
        await linkCustomerToTransaction(db, { transactionId: transaction.id, type, customerId, at });
      }
      // Ask for what a waiting transaction needs first, so this request's fields answer it.
      await settle(customerId, transaction, request.log, { resume: false });
      await putFields(customerId, type, input, transaction?.id ?? null);
      await settle(customerId, transaction, request.log);
      return reply.status(202).send({ id: customerId });
    },
  );

  r.put(
    '/customer/callback',
    {
      onRequest: authenticated,
      preValidation: defaultBody,
      schema: {
        summary: "Register the URL that receives the customer's status changes",
        ...doc,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: CallbackBody,
        response: { 200: EmptyResponse, ...errors },
      },
    },
    async (request) => {
      const who = identity(request);
      const body = cleanParams(request.body);
      const selection = selectionOf(who, body);
      const customer =
        body.id !== undefined
          ? await findCustomerById(db, body.id)
          : await findCustomerByKey(db, { account: who.account, memo: selection.memo });
      if (!customer || !ownsCustomer(who, customer)) {
        throw body.id !== undefined
          ? customerNotFound(body.id)
          : new MooringError('not_found', 'customer not found');
      }
      const url = request.body.url;
      checkText(url, 'url');
      const problem = await checkCallbackUrl(url, {
        sandbox: config.sandbox,
        ...(deps.resolveHost && { resolve: deps.resolveHost }),
      });
      if (problem !== null) throw bad(problem);
      await setCustomerCallbackUrl(db, customer.id, url);
      return {};
    },
  );

  r.delete(
    '/customer/:account',
    {
      onRequest: authenticated,
      preValidation: defaultBody,
      schema: {
        summary: 'Delete everything stored about a customer',
        ...doc,
        params: DeleteParams,
        body: DeleteBody,
        response: { 200: EmptyResponse, ...errors },
      },
    },
    async (request) => {
      const who = identity(request);
      const body = cleanParams(request.body);
      const account = request.params.account;
      checkText(account, 'account');
      const selection = selectionOf(who, { ...body, account });
      const deleted = await deleteCustomer(db, { account: who.account, memo: selection.memo });
      if (deleted === null) throw new MooringError('not_found', 'customer not found');
      request.log.info({ customerId: deleted }, 'SEP-12 customer deleted');
      return {};
    },
  );

  // ---------------------------------------------------------------------------------------------------
  // Who and what a request is about

  function identity(request: FastifyRequest): Sep10Identity {
    if (!request.sep10) throw new MooringError('unauthorized');
    return request.sep10;
  }

  function checkType(type: string | undefined): string | null {
    if (type === undefined) return null;
    if (!Object.hasOwn(types, type)) {
      const known = Object.keys(types);
      throw bad(
        `unknown customer type: ${type}${known.length > 0 ? `; expected one of ${known.join(', ')}` : ''}`,
      );
    }
    return type;
  }

  /** A SEP-31 transaction of the caller (the same account, and the same memo when the token has one). */
  async function ownedTransaction(who: Sep10Identity, id: string): Promise<TransactionRow> {
    if (!UUID.test(id)) throw transactionNotFound(id);
    const row = await findTransaction(db, id);
    if (!row || !ownsTransaction(who, row.sending_anchor)) throw transactionNotFound(id);
    return row;
  }

  /**
   * The customer a GET is about: `id` (a 404 unless the caller's); else, for a transaction and type with
   * no explicit memo or account, the transaction's customer of that type; else the one under the caller's
   * (account, memo). Null: not registered yet.
   */
  async function resolveCustomer(
    who: Sep10Identity,
    id: string | undefined,
    selection: Selection,
    transaction: TransactionRow | null,
    type: string | null,
  ): Promise<CustomerRecord | null> {
    if (id !== undefined) {
      const customer = await findCustomerById(db, id);
      if (!customer || !ownsCustomer(who, customer)) throw customerNotFound(id);
      return customer;
    }
    if (transaction !== null && type !== null && !selection.explicit) {
      const linked = await customerIdOfTransaction(db, transaction, type);
      const customer = linked === null ? undefined : await findCustomerById(db, linked);
      if (customer && ownsCustomer(who, customer)) return customer;
    }
    return (await findCustomerByKey(db, { account: who.account, memo: selection.memo })) ?? null;
  }

  // ---------------------------------------------------------------------------------------------------
  // PUT /customer

  async function readBody(request: FastifyRequest) {
    if (!request.isMultipart()) {
      await defaultBody(request);
      return;
    }
    const body: Record<string, string> = {};
    const uploads: Upload[] = [];
    const seen = new Set<string>();
    try {
      for await (const part of request.parts()) {
        const name = part.fieldname;
        if (seen.has(name)) throw bad(`${name} is given more than once`);
        seen.add(name);
        if (part.type === 'file') {
          const data = await part.toBuffer();
          uploads.push({
            field: name,
            contentType: part.mimetype || 'application/octet-stream',
            filename: part.filename || null,
            data: new Uint8Array(data),
          });
        } else {
          if (part.valueTruncated || part.fieldnameTruncated) throw bad(`${name} is too long`);
          if (typeof part.value !== 'string') throw bad(`${name} must be a string`);
          body[name] = part.value;
        }
      }
    } catch (error) {
      if (error instanceof MooringError) throw error;
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status === 413) {
        throw new MooringError('payload_too_large', `a file is larger than ${MAX_FILE_BYTES} bytes`);
      }
      throw bad(`malformed multipart/form-data body: ${(error as Error).message}`);
    }
    request.body = body;
    uploadsOf.set(request, uploads);
  }
}

/**
 * The SEP-12 customer logic behind the routes, usable on its own (operators, integrations giving late
 * verdicts): stores fields, drives the customer machine per type, writes status changes with their
 * callback effects, and keeps SEP-31 transactions waiting for customer info in step.
 */
export function createCustomerService(deps: Sep12Deps) {
  const { config, db } = deps;
  const types: CustomerTypes = config.sep12.types;
  const integration = deps.customerIntegration ?? createReferenceCustomerIntegration();
  const now = () => deps.clock?.() ?? new Date();
  const requiredOf = (type: string) => types[type]?.fields ?? [];

  /** `GET /customer` for a customer (or null: unknown) and a type (null: its registered type, else all). */
  function view(customer: CustomerRecord | null, type: string | null): CustomerBody {
    const registered = customer?.type ?? null;
    const effective = type ?? (registered !== null && Object.hasOwn(types, registered) ? registered : null);
    return customerView(customer, effective, types, now().toISOString());
  }

  /**
   * Applies the fields of a PUT to the customer: stores them, feeds every type's machine, asks the
   * integration for a verdict. One writer per customer: the row is locked for the whole change, the
   * integration's review included (an integration that needs long should leave fields without a verdict,
   * PROCESSING, and give it later through `updateStatus`).
   */
  async function putFields(
    customerId: string,
    type: string | null,
    input: ParsedFields,
    transactionId: string | null,
  ): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const before = await findCustomerById(trx, customerId, { forUpdate: true });
      if (!before) throw customerNotFound(customerId);
      const at = now();
      const stamp = at.toISOString();
      const fields: Record<string, StoredCustomerField> = { ...before.fields };
      const files: NewCustomerFile[] = [];
      const changed: string[] = [];
      for (const [name, value] of input.values) {
        const current = before.fields[name];
        if (value.kind === 'text') {
          if (current?.kind === 'text' && current.value === value.value) continue;
          fields[name] = { kind: 'text', value: value.value };
        } else {
          const { upload } = value;
          const sha256 = createHash('sha256').update(upload.data).digest('hex');
          if (
            current?.kind === 'file' &&
            current.sha256 === sha256 &&
            current.contentType === upload.contentType
          ) {
            continue;
          }
          const fileId = randomUUID();
          files.push({
            id: fileId,
            customerId,
            field: name,
            contentType: upload.contentType,
            filename: upload.filename,
            data: upload.data,
            sha256,
          });
          fields[name] = {
            kind: 'file',
            fileId,
            contentType: upload.contentType,
            filename: upload.filename,
            size: upload.data.byteLength,
            sha256,
          };
        }
        changed.push(name);
      }

      const statuses: Record<string, PersistedCustomer> = { ...before.statuses };
      for (const t of Object.keys(types)) {
        let snapshot = snapshotFor(before, t, requiredOf(t), stamp);
        // Sent again after a rejection counts even with the same value: it gets a new verdict.
        const resent = [...input.values.keys()].filter((name) => name in snapshot.context.rejected);
        const provided = [...new Set([...changed, ...resent])];
        if (provided.length > 0) {
          snapshot = stepCustomerAll(snapshot, [{ type: 'FIELDS_PROVIDED', at: stamp, fields: provided }]);
        }
        snapshot = await review(trx, snapshot, { before, fields, input, files, transactionId, stamp });
        statuses[t] = keepIfSame(before.statuses[t], persistCustomer(snapshot));
      }

      const after = { ...before, fields, statuses, type: type ?? before.type };
      const same =
        changed.length === 0 &&
        after.type === before.type &&
        Object.keys(types).every((t) => before.statuses[t] === statuses[t]);
      if (same) return;
      for (const file of files) await saveCustomerFile(trx, file);
      if (!(await writeChange(trx, before, after, at))) {
        throw new Error(`customer ${customerId} changed while locked`);
      }
    });
  }

  /** Asks the integration about fields awaiting a verdict and feeds its answer to the machine. */
  async function review(
    trx: Executor,
    snapshot: CustomerSnapshot,
    request: {
      before: CustomerRecord;
      fields: Record<string, StoredCustomerField>;
      input: ParsedFields;
      files: NewCustomerFile[];
      transactionId: string | null;
      stamp: string;
    },
  ): Promise<CustomerSnapshot> {
    if (snapshot.status !== 'active') return snapshot;
    const { context } = snapshot;
    const pending = context.received.filter(
      (name) => !context.verified.includes(name) && !(name in context.rejected),
    );
    if (pending.length === 0 && Object.keys(request.input.verifications).length === 0) return snapshot;
    const { before, fields, files, stamp } = request;
    const verdict = await integration.review({
      customer: { id: before.id, account: before.account, memo: before.memo },
      type: context.type,
      required: context.required,
      fields: fieldValues(fields),
      pending,
      verifications: request.input.verifications,
      transactionId: request.transactionId,
      readFile: async (field) => {
        const uploaded = files.find((file) => file.field === field);
        return uploaded ? uploaded.data : readCustomerFile(trx, before.id, field);
      },
    });
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
    return stepCustomerAll(snapshot, events);
  }

  // ---------------------------------------------------------------------------------------------------
  // Writing a change: version + 1, the read-model status, and one callback effect per status change

  /**
   * Writes `after` over `before` if the customer is still at `before.version`, with a
   * `customer_status_changed` effect for every type whose status changed (when a callback URL is set).
   * Call it inside a database transaction. False on a lost race.
   */
  async function writeChange(
    trx: Executor,
    before: CustomerRecord,
    after: Pick<CustomerRecord, 'fields' | 'statuses' | 'type'>,
    at: Date,
  ): Promise<boolean> {
    const stamp = at.toISOString();
    const statusOf = (record: Pick<CustomerRecord, 'fields' | 'statuses'>, type: string) =>
      customerStatusOf(snapshotFor(record, type, requiredOf(type), stamp));
    const mirrorType = after.type !== null && Object.hasOwn(types, after.type) ? after.type : null;
    const status =
      mirrorType !== null
        ? statusOf(after, mirrorType)
        : worstStatus(Object.keys(types).map((t) => statusOf(after, t)));
    const ok = await updateCustomer(trx, before.id, before.version, {
      type: after.type,
      status,
      fields: after.fields,
      statuses: after.statuses,
      at,
    });
    if (!ok) return false;
    const version = before.version + 1;
    const url = before.callbackUrl;
    if (url === null) return true;
    const effects: NewOutboxEffect[] = [];
    for (const type of Object.keys(types)) {
      const previousStatus = statusOf(before, type);
      const current = statusOf(after, type);
      if (current === previousStatus) continue;
      const payload: CustomerStatusChangedEffect = {
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
    await insertEffects(trx, effects);
    return true;
  }

  // ---------------------------------------------------------------------------------------------------
  // SEP-31 pending_customer_info_update rounds

  /** The types a CUSTOMER_INFO_NEEDED round asks about: its `customerType`, or every configured type. */
  function roundTypes(customerType: string | null): string[] {
    return customerType !== null && Object.hasOwn(types, customerType) ? [customerType] : Object.keys(types);
  }

  /**
   * Brings a customer up to date with the transactions waiting for it: applies each transaction's
   * latest CUSTOMER_INFO_NEEDED to its status once (the flagged fields become REJECTED), then (unless
   * `resume` is false) sends CUSTOMER_INFO_UPDATED to transactions whose customers are all ACCEPTED again.
   * True when the customer changed.
   */
  async function settle(
    customerId: string,
    transaction: TransactionRow | null,
    log: Logger = defaultLog,
    options: { resume?: boolean } = {},
  ): Promise<boolean> {
    const ids = new Set(await pendingInfoTransactionIds(db, customerId));
    if (transaction !== null) ids.add(transaction.id);
    let changed = false;
    for (const id of ids) changed = (await applyRound(id)) || changed;
    if (options.resume !== false) for (const id of ids) await resume(id, log);
    return changed;
  }

  async function applyRound(transactionId: string): Promise<boolean> {
    const transaction = await findTransaction(db, transactionId);
    if (!transaction || transaction.status !== 'pending_customer_info_update') return false;
    const round = await latestCustomerInfoRequest(db, transactionId);
    if (round === null) return false;
    let changed = false;
    for (const type of roundTypes(round.customerType)) {
      const customerId = await customerIdOfTransaction(db, transaction, type);
      if (customerId === null) continue;
      const applied = await db.transaction().execute(async (trx) => {
        const before = await findCustomerById(trx, customerId, { forUpdate: true });
        if (!before) return false;
        const link = await findCustomerTransactionLink(trx, transactionId, type, { forUpdate: true });
        if (link?.appliedSeq === round.seq) return false;
        const at = now();
        const stamp = at.toISOString();
        const flagged = link?.requestedFields?.length ? link.requestedFields : requiredOf(type);
        const message =
          link?.requestedMessage ?? round.message ?? 'the receiving anchor needs this information again';
        const errors = Object.fromEntries(flagged.map((name) => [name, message]));
        const current = snapshotFor(before, type, requiredOf(type), stamp);
        const result = stepCustomer(current, { type: 'FIELDS_REJECTED', at: stamp, errors, message });
        if (result.accepted) {
          const statuses = { ...before.statuses, [type]: persistCustomer(result.snapshot) };
          if (!(await writeChange(trx, before, { ...before, statuses }, at))) {
            throw new Error(`customer ${customerId} changed while locked`);
          }
        }
        await markInfoRequestApplied(trx, { transactionId, type, customerId, seq: round.seq, at });
        return result.accepted;
      });
      changed = applied || changed;
    }
    return changed;
  }

  /** CUSTOMER_INFO_UPDATED, once per round, when every customer the round asked about is ACCEPTED again. */
  async function resume(transactionId: string, log: Logger): Promise<void> {
    const transaction = await findTransaction(db, transactionId);
    if (!transaction || transaction.status !== 'pending_customer_info_update') return;
    const round = await latestCustomerInfoRequest(db, transactionId);
    if (round === null) return;
    const stamp = now().toISOString();
    let asked = 0;
    for (const type of roundTypes(round.customerType)) {
      const customerId = await customerIdOfTransaction(db, transaction, type);
      if (customerId === null) continue;
      const link = await findCustomerTransactionLink(db, transactionId, type);
      if (link?.appliedSeq !== round.seq) return;
      const customer = await findCustomerById(db, customerId);
      if (!customer) return;
      if (customerStatusOf(snapshotFor(customer, type, requiredOf(type), stamp)) !== 'ACCEPTED') return;
      asked++;
    }
    if (asked === 0) return;
    try {
      await deps.host.apply({
        eventId: `customer-info-updated:${transactionId}:${round.seq}`,
        transactionId,
        event: { type: 'CUSTOMER_INFO_UPDATED', at: stamp },
      });
    } catch (error) {
      if (error instanceof EventRejectedError || error instanceof TransactionNotFoundError) return;
      // The customer change is committed; the next GET or PUT of this customer tries again.
      log.error({ err: error, transactionId }, 'could not resume the transaction after a SEP-12 update');
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Operators and integrations

  const updateStatus: UpdateCustomerStatus = async (customerId, type, event, log = defaultLog) => {
    if (!Object.hasOwn(types, type)) throw new Error(`unknown customer type: ${type}`);
    const changed = await db.transaction().execute(async (trx) => {
      const before = await findCustomerById(trx, customerId, { forUpdate: true });
      if (!before) throw new Error(`customer not found: ${customerId}`);
      const at = now();
      const result = stepCustomer(snapshotFor(before, type, requiredOf(type), at.toISOString()), event);
      if (!result.accepted) return false;
      const statuses = { ...before.statuses, [type]: persistCustomer(result.snapshot) };
      if (!(await writeChange(trx, before, { ...before, statuses }, at))) {
        throw new Error(`customer ${customerId} changed while locked`);
      }
      return true;
    });
    if (changed) await settle(customerId, null, log);
    return changed;
  };

  return { putFields, settle, updateStatus, view };
}

// -----------------------------------------------------------------------------------------------------------
// Parameters

interface Selection {
  /** The memo the customer is keyed by. */
  memo: string | null;
  /** True when the request named the customer by memo or account (not only by id). */
  explicit: boolean;
}

type Params = Partial<Record<'id' | 'account' | 'memo' | 'memo_type' | 'type' | 'transaction_id', string>>;

function checkText(value: string, name: string): void {
  if (value.includes('\u0000')) throw bad(`${name} must not contain NUL characters`);
  if (LONE_SURROGATE.test(value)) throw bad(`${name} must be valid Unicode text`);
}

/** The selector parameters as clean strings; empty strings count as absent. */
function cleanParams(source: Record<string, unknown> | undefined): Params {
  const params: Params = {};
  for (const key of ['id', 'account', 'memo', 'memo_type', 'type', 'transaction_id', 'lang'] as const) {
    const value = source?.[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw bad(`${key} must be a string`);
    checkText(value, key);
    if (key !== 'lang') params[key] = value;
  }
  return params;
}

/**
 * The memo a request's customer is keyed by, after checking `account` / `memo` / `memo_type` against the
 * token: a token bound to a memo allows only that memo (403 otherwise); `account` must be the token's.
 */
function selectionOf(who: Sep10Identity, params: Params): Selection {
  let memo = params.memo ?? null;
  let explicit = memo !== null;
  if (params.account !== undefined) {
    explicit = true;
    const muxed = muxedParts(params.account);
    const base = muxed?.account ?? params.account;
    if (base !== who.account) throw forbidden('account does not match the authenticated account');
    if (muxed !== null) {
      if (memo !== null && memo !== muxed.memo) throw bad('memo does not match the muxed account');
      memo = muxed.memo;
    }
  }
  if (params.memo_type !== undefined) {
    if (!MEMO_TYPES.has(params.memo_type)) throw bad('memo_type must be one of id, text, hash');
    if (memo !== null) checkMemo(params.memo_type, memo);
  }
  if (who.memo !== null) {
    if (memo !== null && memo !== who.memo) {
      throw forbidden('memo does not match the memo of the authenticated account');
    }
    memo = who.memo;
  }
  return { memo, explicit };
}

function muxedParts(address: string): { account: string; memo: string } | null {
  if (!StrKey.isValidMed25519PublicKey(address)) return null;
  const muxed = MuxedAccount.fromAddress(address, '0');
  return { account: muxed.baseAccount().accountId(), memo: muxed.id() };
}

function checkMemo(type: string, memo: string): void {
  if (type === 'id') {
    if (!/^\d{1,20}$/.test(memo) || BigInt(memo) > 18446744073709551615n) {
      throw bad('memo must be an unsigned 64-bit integer for memo_type id');
    }
  } else if (type === 'text') {
    if (new TextEncoder().encode(memo).byteLength > 28) throw bad('a text memo is at most 28 bytes');
  } else if (!/^[A-Za-z0-9+/]{43}=$/.test(memo)) {
    throw bad('a hash memo must be 32 bytes in base64');
  }
}

/** Whether a transaction's `sending_anchor` (a SEP-10 sub) belongs to the caller. */
function ownsTransaction(who: Sep10Identity, sendingAnchor: string): boolean {
  try {
    const owner = identityOf(sendingAnchor, '', null);
    return owner.account === who.account && (who.memo === null || owner.memo === who.memo);
  } catch {
    return false;
  }
}

async function defaultBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

interface ParsedFields {
  values: Map<string, FieldInput>;
  verifications: Record<string, string>;
}

/** The SEP-9 fields of a PUT body (and its file parts); anything that is not SEP-9 is a 400. */
function parseFields(body: Record<string, unknown>, uploads: readonly Upload[]): ParsedFields {
  const values = new Map<string, FieldInput>();
  const verifications: Record<string, string> = {};
  for (const [name, raw] of Object.entries(body)) {
    if (RESERVED.has(name) || raw === undefined) continue;
    checkText(name, 'a field name');
    if (typeof raw !== 'string') throw bad(`${name} must be a string`);
    checkText(raw, name);
    const base = name.replace(/_(verification|file_id)$/, '');
    if (name.endsWith('_verification') && isSep9Field(base)) {
      verifications[base] = raw;
      continue;
    }
    if (name.endsWith('_file_id') && isSep9Field(base)) {
      throw bad(
        `${name}: pre-uploaded files are not supported; send ${base} as a file part of a multipart/form-data request`,
      );
    }
    if (!isSep9Field(name)) throw bad(`${name} is not a SEP-9 field`);
    if (describeSep9Field(name).type === 'binary') {
      throw bad(`${name} is a binary field: send it as a file part of a multipart/form-data request`);
    }
    if (raw.trim() === '') throw bad(`${name} must not be empty`);
    values.set(name, { kind: 'text', value: raw });
  }
  for (const upload of uploads) {
    const name = upload.field;
    checkText(name, 'a field name');
    if (RESERVED.has(name)) throw bad(`${name} must be a text part, not a file`);
    if (!isSep9Field(name)) throw bad(`${name} is not a SEP-9 field`);
    if (describeSep9Field(name).type !== 'binary')
      throw bad(`${name} is not a binary field: send it as text`);
    values.set(name, { kind: 'file', upload });
  }
  return { values, verifications };
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
