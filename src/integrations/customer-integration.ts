/**
 * The anchor's SEP-12 business logic: what it thinks of the KYC data a sending anchor sent. Mooring does
 * the protocol work (authentication, ownership, SEP-9 names, storage, the status machine per customer type,
 * callbacks, resuming transactions); the integration only judges field values.
 *
 * The verdicts become events of the customer machine (`machines/customer`): verified fields are ACCEPTED,
 * rejected ones must be sent again (the customer is NEEDS_INFO), fields left without a verdict stay under
 * review (PROCESSING), and `reject` ends the customer for that type (REJECTED). A verdict given later
 * (e.g. after a manual review) is a command to the customer's actor: `updateStatus` of
 * `createCustomerCommands` (`src/actors/customer-commands.ts`).
 */
export interface CustomerIntegration {
  /**
   * Reviews a customer's fields for one type after a `PUT /customer` that left fields awaiting a verdict.
   * Called once per configured type, by the customer's actor inside its database transaction; may call
   * out (a KYC provider) but should answer promptly: the sending anchor and that partition wait for it.
   * A throw (the KYC service is away) leaves the fields PROCESSING; the review is asked again later
   * (`recheck`), with backoff, until an answer comes.
   */
  review(request: CustomerReviewRequest): Promise<CustomerReview>;

  /**
   * The customer was deleted (SEP-12 `DELETE /customer`): forget it too. Optional. Called by the customer's
   * actor before it deletes; a throw keeps the customer and the sending anchor gets a 503 to retry.
   */
  deleted?(customer: { id: string; account: string; memo: string | null }): Promise<void>;
}

/** One SEP-9 value as stored. Binary fields carry metadata; `readFile` gives their bytes. */
export type CustomerFieldValue =
  | { kind: 'text'; value: string }
  | { kind: 'file'; contentType: string; filename: string | null; size: number; sha256: string };

export interface CustomerReviewRequest {
  customer: { id: string; account: string; memo: string | null };
  /** The SEP-12 customer type under review, e.g. `sep31-receiver`. */
  type: string;
  /** SEP-9 names this type requires (from `sep12.types[type].fields`). */
  required: readonly string[];
  /** Every value the customer has, after this request. */
  fields: Readonly<Record<string, CustomerFieldValue>>;
  /** Received fields awaiting a verdict: new, changed, or sent again since the last review. */
  pending: readonly string[];
  /** `<field>_verification` codes sent with this request (SEP-12 §PUT), by field name. */
  verifications: Readonly<Record<string, string>>;
  /** The SEP-31 transaction the request named (`transaction_id`), if any. */
  transactionId: string | null;
  /**
   * False after a `PUT /customer`; true when Mooring asks again about fields still awaiting a verdict (the
   * last review could not be had, or left them PROCESSING): nothing new was sent.
   */
  recheck: boolean;
  /** The bytes of a binary field, or null if the customer has none. */
  readFile(field: string): Promise<Uint8Array | null>;
}

export interface CustomerReview {
  /** Fields found valid: their status becomes ACCEPTED. */
  verified?: readonly string[];
  /** Fields that must be sent again, with why: REJECTED, and the customer becomes NEEDS_INFO. */
  rejected?: Readonly<Record<string, string>>;
  /** Human text for the sending anchor (shown as `message`). */
  message?: string;
  /** Rejects the customer for this type for good (status REJECTED, `message` shown). */
  reject?: { message: string };
}
