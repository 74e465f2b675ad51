import type { Selectable } from 'kysely';
import type { DefaultTimestamp } from './columns.ts';

/**
 * Files a sending anchor uploaded, staged until the customer actor takes them into `customer_files` (the
 * claim check of a multipart `PUT /customer`: the bus carries references, not bytes). The bytes are in
 * `upload_chunks`. Rows nobody took are swept after a while (`src/storage/uploads.ts`).
 */
export interface UploadsTable {
  id: string;
  /** The uploader's base account: the customer actor takes only its own account's uploads. */
  account: string;
  content_type: string;
  filename: string | null;
  /** Bytes stored so far; the file's size once `sha256` is set. */
  size: number;
  /** Null while the file is still arriving: such an upload is never taken. */
  sha256: string | null;
  created_at: DefaultTimestamp;
}

/** An upload's bytes, in order of `seq`; deleted with their upload. */
export interface UploadChunksTable {
  upload_id: string;
  seq: number;
  data: Uint8Array;
}

export type UploadRow = Selectable<UploadsTable>;
