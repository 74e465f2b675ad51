import type { Selectable } from 'kysely';
import type { DefaultTimestamp } from './columns.ts';

/**
 * Files a sending anchor uploaded, staged until the customer actor takes them into `customer_files` (the
 * claim check of a multipart `PUT /customer`: the bus carries references, not bytes). Rows nobody took are
 * swept after a while (`src/storage/uploads.ts`).
 */
export interface UploadsTable {
  id: string;
  /** The uploader's base account: the customer actor takes only its own account's uploads. */
  account: string;
  content_type: string;
  filename: string | null;
  size: number;
  sha256: string;
  data: Uint8Array;
  created_at: DefaultTimestamp;
}

export type UploadRow = Selectable<UploadsTable>;
