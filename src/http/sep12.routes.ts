/**
 * SEP-12 (v1.15.0) KYC API for sending anchors: `GET /customer`, `PUT /customer` (JSON, form and multipart
 * with binary fields), `PUT /customer/callback` and `DELETE /customer/:account`.
 *
 * A thin layer: requests are checked here (authentication, parameters, SEP-9 names, ownership), changes
 * are commands to the customer actors (`src/actors/customer-actors.ts`, one per (account, memo)), answered
 * over the bus once committed (a 503 when no answer comes in time), and reads go to the read model
 * (`src/read-model/customers.ts`). Uploaded files are staged as they arrive (`src/storage/uploads.ts`),
 * under the caps of `sep12.uploads`, and only their references travel in the command.
 *
 * Identity: customers are keyed by the SEP-10 token's account and a memo. A token bound to a memo
 * (`G...:<memo>` or `M...`) works only with that memo; a plain `G...` token may register any number of
 * customers under memos of its choice. Another sending anchor's customer (or transaction) is a 404.
 * Auth failures are 403 on every endpoint (SEP-31's choice; SEP-12 allows 401 or 403); a token of an
 * account that is not a configured sending anchor is also 403.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md
 */
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MuxedAccount, StrKey } from '@stellar/stellar-sdk';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeSep9Field, isSep9Field, SEP9_FIELDS } from '../../machines/index.ts';
import { commanded } from './commands.ts';
import type { CustomerPut } from '../actors/customer-commands.ts';
import type { CustomerReply, UploadRef } from '../actors/messages.ts';
import { checkCallbackUrl, type ResolveHost } from '../effects/callback-url.ts';
import { MooringError } from '../errors.ts';
import type { CustomerView } from '../read-model/customers.ts';
import type { TransactionView } from '../read-model/transactions.ts';
import type { RouteDeps } from './app.ts';
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
  type CustomerTypes,
} from './sep12.schemas.ts';

export type Sep12Deps = RouteDeps & {
  /** Host resolution for callback URL checks (tests). */
  resolveHost?: ResolveHost;
};

/** A file part per SEP-9 binary field at most: a request with more is refused before it is read. */
const BINARY_FIELDS = Object.values(SEP9_FIELDS).filter((field) => field.type === 'binary').length;
/** Where busboy stops reading a multipart body (a SEP-12 request has a few dozen text fields at most). */
const MULTIPART_LIMITS = {
  files: BINARY_FIELDS,
  fields: 200,
  parts: 200 + BINARY_FIELDS,
  fieldSize: 4000,
  fieldNameSize: 100,
} as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESERVED = new Set(['id', 'account', 'memo', 'memo_type', 'type', 'transaction_id', 'lang']);
const MEMO_TYPES = new Set(['id', 'text', 'hash']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const bad = (message: string) => new MooringError('bad_request', message);
const forbidden = (message: string) => new MooringError('forbidden', message);
const customerNotFound = (id: string) => new MooringError('not_found', `customer not found for id: ${id}`);
const noCustomer = () => new MooringError('not_found', 'customer not found');
const transactionNotFound = (id: string) =>
  new MooringError('not_found', `transaction not found for id: ${id}`);
const tooLarge = (message: string) => new MooringError('payload_too_large', message);
const errors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse };
const doc = { tags: ['SEP-12'], security: [{ sep10: [] }] };

/** Binary parts of a multipart PUT, staged as they arrived, kept aside from the body the schema validates. */
const uploadsOf = new WeakMap<FastifyRequest, UploadRef[]>();

export async function sep12Routes(app: FastifyInstance, deps: Sep12Deps): Promise<void> {
  const { config, customerCommands: commands, customerQueries: customers } = deps;
  const types: CustomerTypes = config.sep12.types;
  const uploads = deps.uploads;
  const caps = config.sep12.uploads;
  const sendingAnchors = new Set(config.sendingAnchors.flatMap((anchor) => anchor.signingKeys));

  await app.register(formbody);
  await app.register(multipart, { limits: { ...MULTIPART_LIMITS, fileSize: caps.maxFileBytes } });
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
  // Writes are limited per sending anchor account, counted once it is known.
  const authenticatedWrite = [...authenticated, deps.limits.writes];

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
      const customer = await resolveCustomer(who, query.id, selection, transaction, type);
      return customers.body(customer, type);
    },
  );

  r.put(
    '/customer',
    {
      onRequest: authenticatedWrite,
      preValidation: readBody,
      schema: {
        summary: 'Register or update a customer with SEP-9 fields',
        ...doc,
        consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
        body: PutCustomerBody,
        response: { 202: PutCustomerResponse, 413: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const staged = uploadsOf.get(request) ?? [];
      // Staged files nobody will take go now; after a command was sent, the actor may still take them.
      const dropStaged = () => uploads.drop(staged.map((file) => file.id)).catch(() => undefined);
      let put: Awaited<ReturnType<typeof preparePut>>;
      try {
        put = await preparePut(request, staged);
      } catch (error) {
        await dropStaged();
        throw error;
      }
      const answer = await commanded(commands.put(put.owner, put.command));
      if (answer.outcome === 'refused') {
        await dropStaged();
        throw refusal(answer, put.id === undefined ? noCustomer() : customerNotFound(put.id));
      }
      return reply.status(202).send({ id: answer.customerId });
    },
  );

  r.put(
    '/customer/callback',
    {
      onRequest: authenticatedWrite,
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
          ? await customers.byId(body.id, who)
          : await customers.byKey(who.account, selection.memo);
      if (!customer) throw body.id !== undefined ? customerNotFound(body.id) : noCustomer();
      const url = request.body.url;
      checkText(url, 'url');
      const problem = await checkCallbackUrl(url, {
        allowLoopback: config.callbacks.allowLoopback,
        ...(deps.resolveHost && { resolve: deps.resolveHost }),
      });
      if (problem !== null) throw bad(problem);
      const answer = await commanded(commands.registerCallback(customer, customer.id, url));
      if (answer.outcome === 'refused') throw refusal(answer, noCustomer());
      return {};
    },
  );

  r.delete(
    '/customer/:account',
    {
      onRequest: authenticatedWrite,
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
      const customer = await customers.byKey(who.account, selection.memo);
      if (!customer) throw noCustomer();
      const answer = await commanded(commands.delete(customer, customer.id));
      if (answer.outcome === 'refused') throw refusal(answer, noCustomer());
      request.log.info({ customerId: customer.id }, 'SEP-12 customer deleted');
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
  async function ownedTransaction(who: Sep10Identity, id: string): Promise<TransactionView> {
    if (!UUID.test(id)) throw transactionNotFound(id);
    const transaction = await deps.queries.transaction(id);
    if (!transaction || !ownsTransaction(who, transaction.sendingAnchor)) throw transactionNotFound(id);
    return transaction;
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
    transaction: TransactionView | null,
    type: string | null,
  ): Promise<CustomerView | null> {
    if (id !== undefined) {
      const customer = await customers.byId(id, who);
      if (!customer) throw customerNotFound(id);
      return customer;
    }
    if (transaction !== null && type !== null && !selection.explicit) {
      const customer = await customers.ofTransaction(transaction, type, who);
      if (customer) return customer;
    }
    return (await customers.byKey(who.account, selection.memo)) ?? null;
  }

  // ---------------------------------------------------------------------------------------------------
  // PUT /customer

  /** A PUT's checked parameters: where the command goes and what it says. */
  async function preparePut(request: FastifyRequest, files: UploadRef[]) {
    const who = identity(request);
    const body = cleanParams(request.body as Record<string, unknown>);
    const type = checkType(body.type);
    if (body.transaction_id !== undefined && type === null) throw bad('transaction_id requires type');
    const selection = selectionOf(who, body);
    const input = parseFields(request.body as Record<string, unknown>, files);
    const transaction =
      body.transaction_id !== undefined ? await ownedTransaction(who, body.transaction_id) : null;
    // A PUT by id goes to where that customer lives (the caller's, or a 404).
    let owner = { account: who.account, memo: selection.memo };
    if (body.id !== undefined) {
      const customer = await customers.byId(body.id, who);
      if (!customer) throw customerNotFound(body.id);
      owner = { account: customer.account, memo: customer.memo };
    }
    const command: CustomerPut = {
      customerId: body.id ?? null,
      customerType: type,
      transactionId: transaction?.id ?? null,
      fields: input.text,
      files: input.files,
      verifications: input.verifications,
    };
    return { id: body.id, owner, command };
  }

  /**
   * A multipart body's text parts become the body the schema validates; each file part is streamed into
   * the upload store as it arrives (claim check: the command carries references), under the caps. A
   * request cannot store more than its customer may, so it is cut at the smaller of the two caps.
   */
  async function readBody(request: FastifyRequest, reply: FastifyReply) {
    if (!request.isMultipart()) {
      await defaultBody(request);
      return;
    }
    const who = identity(request);
    const body: Record<string, string> = {};
    const staged: UploadRef[] = [];
    const seen = new Set<string>();
    const requestCap =
      caps.maxRequestBytes <= caps.maxCustomerBytes
        ? { bytes: caps.maxRequestBytes, per: 'request' }
        : { bytes: caps.maxCustomerBytes, per: 'customer' };
    let requestBytes = 0;
    try {
      for await (const part of request.parts()) {
        const name = part.fieldname;
        if (part.type === 'field' && part.fieldnameTruncated) {
          throw bad(`a field name is longer than ${MULTIPART_LIMITS.fieldNameSize} bytes`);
        }
        if (seen.has(name)) throw bad(`${name} is given more than once`);
        seen.add(name);
        if (part.type === 'file') {
          // Checked before a byte is stored.
          checkFileField(name);
          const file = part.file;
          const overFileCap = () =>
            tooLarge(`${name} is larger than ${caps.maxFileBytes} bytes, the cap per file`);
          const counted = async function* () {
            for await (const piece of file as AsyncIterable<Buffer>) {
              // busboy cuts a file at the per-file cap and marks it truncated.
              if (file.truncated) throw overFileCap();
              requestBytes += piece.byteLength;
              if (requestBytes > requestCap.bytes) {
                throw tooLarge(
                  `the files of this request total more than ${requestCap.bytes} bytes, the cap per ${requestCap.per}`,
                );
              }
              yield piece;
            }
            if (file.truncated) throw overFileCap();
          };
          const upload = await uploads.stage({
            account: who.account,
            contentType: part.mimetype || 'application/octet-stream',
            filename: part.filename || null,
            data: counted(),
          });
          staged.push({ field: name, ...upload });
        } else {
          if (part.valueTruncated) {
            throw bad(`${name} is longer than ${MULTIPART_LIMITS.fieldSize} bytes`);
          }
          if (typeof part.value !== 'string') throw bad(`${name} must be a string`);
          body[name] = part.value;
        }
      }
    } catch (error) {
      await uploads.drop(staged.map((file) => file.id)).catch(() => undefined);
      // The rest of the body is not read: close the connection rather than leave it half-read.
      void reply.header('connection', 'close');
      throw multipartError(error, caps.maxFileBytes);
    }
    request.body = body;
    uploadsOf.set(request, staged);
  }
}

/** A SEP error for what stopped reading a multipart body; every limit says which one it was. */
function multipartError(error: unknown, maxFileBytes: number): MooringError {
  if (error instanceof MooringError) return error;
  switch ((error as { code?: unknown }).code) {
    case 'FST_PARTS_LIMIT':
      return tooLarge(`too many parts: at most ${MULTIPART_LIMITS.parts} fields and files in one request`);
    case 'FST_FIELDS_LIMIT':
      return tooLarge(`too many fields: at most ${MULTIPART_LIMITS.fields} text fields in one request`);
    case 'FST_FILES_LIMIT':
      return tooLarge(`too many files: at most ${MULTIPART_LIMITS.files} files in one request`);
    case 'FST_REQ_FILE_TOO_LARGE':
      return tooLarge(`a file is larger than ${maxFileBytes} bytes, the cap per file`);
  }
  return bad(`malformed multipart/form-data body: ${(error as Error).message}`);
}

/** The HTTP error of a refused command; `notFound` is what a 404 says. */
function refusal(
  answer: Extract<CustomerReply, { outcome: 'refused' }>,
  notFound: MooringError,
): MooringError {
  switch (answer.code) {
    case 'not_found':
      return notFound;
    case 'too_large':
      return tooLarge(answer.reason);
    case 'upload_missing':
    case 'malformed':
    case 'rejected':
      return bad(answer.reason);
    case 'unavailable':
      return new MooringError('business_unavailable', answer.reason);
    default:
      return new MooringError('internal', answer.reason);
  }
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
  text: Record<string, string>;
  files: UploadRef[];
  verifications: Record<string, string>;
}

/** The SEP-9 fields of a PUT body (and its file parts); anything that is not SEP-9 is a 400. */
function parseFields(body: Record<string, unknown>, uploads: readonly UploadRef[]): ParsedFields {
  const text: Record<string, string> = {};
  const files = new Map<string, UploadRef>();
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
    text[name] = raw;
  }
  for (const upload of uploads) {
    checkFileField(upload.field);
    files.set(upload.field, upload);
  }
  return { text, files: [...files.values()], verifications };
}

/** A file part must be for a SEP-9 binary field. */
function checkFileField(name: string): void {
  checkText(name, 'a field name');
  if (RESERVED.has(name)) throw bad(`${name} must be a text part, not a file`);
  if (!isSep9Field(name)) throw bad(`${name} is not a SEP-9 field`);
  if (describeSep9Field(name).type !== 'binary') throw bad(`${name} is not a binary field: send it as text`);
}
