/** What SEP-10 needs to know of an account on the network (Horizon's `GET /accounts/:id`). */
export interface AccountSigners {
  signers: { key: string; weight: number; type: string }[];
  thresholds: { low_threshold: number; med_threshold: number; high_threshold: number };
}

export interface HorizonAccounts {
  /** The account's signers and thresholds, or null when the account does not exist (Horizon 404). */
  loadAccount(accountId: string): Promise<AccountSigners | null>;
}
