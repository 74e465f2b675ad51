/**
 * Staged uploads: the claim check of a multipart `PUT /customer`. A bus message is at most 1 MB and a
 * SEP-12 file up to 5 MB, so HTTP stores each file here first and sends only a reference (id, sha256,
 * size, content type, filename); the customer actor takes the bytes into `customer_files` in the database
 * transaction that applies the command, and drops the staged row. Rows nobody took (a 4xx after staging, a
 * command that timed out and was never applied) are swept once they are old.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../db/database.ts';

/** A staged file, as a command refers to it. */
export interface StagedUpload {
  id: string;
  sha256: string;
  size: number;
  contentType: string;
  filename: string | null;
}

/** What the customer actor checks before taking a staged file. */
export interface StagedUploadInfo extends StagedUpload {
  account: string;
}

export interface UploadStore {
  /** Stores one file of `account`; what the command carries instead of the bytes. */
  stage(upload: {
    account: string;
    contentType: string;
    filename: string | null;
    data: Uint8Array;
  }): Promise<StagedUpload>;
  /** Deletes staged files older than the store's `maxAgeMs`; how many went. */
  sweep(): Promise<number>;
}

export interface UploadStoreOptions {
  /** A staged file nobody took is swept after this. Default one day. */
  maxAgeMs?: number;
  /** `stage` sweeps at most this often (one indexed delete). Default ten minutes. */
  sweepEveryMs?: number;
  /** Rows deleted by one sweep at most, so a sweep stays short. Default 100. */
  sweepLimit?: number;
  clock?: () => Date;
}

export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export function createUploadStore(db: Kysely<Database>, options: UploadStoreOptions = {}): UploadStore {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS;
  const sweepEveryMs = options.sweepEveryMs ?? 10 * 60 * 1000;
  const sweepLimit = options.sweepLimit ?? 100;
  const clock = options.clock ?? (() => new Date());
  let lastSweep = 0;

  async function sweep(): Promise<number> {
    lastSweep = clock().getTime();
    return sweepStagedUploads(db, new Date(lastSweep - maxAgeMs), sweepLimit);
  }

  return {
    async stage(upload) {
      if (clock().getTime() - lastSweep >= sweepEveryMs) {
        // Best effort: a failed sweep is tried again later and must not fail the upload.
        await sweep().catch(() => undefined);
      }
      const staged: StagedUpload = {
        id: randomUUID(),
        sha256: createHash('sha256').update(upload.data).digest('hex'),
        size: upload.data.byteLength,
        contentType: upload.contentType,
        filename: upload.filename,
      };
      await db
        .insertInto('uploads')
        .values({
          id: staged.id,
          account: upload.account,
          content_type: staged.contentType,
          filename: staged.filename,
          size: staged.size,
          sha256: staged.sha256,
          data: upload.data,
          created_at: clock(),
        })
        .execute();
      return staged;
    },
    sweep,
  };
}

/** The staged files with these ids (without their bytes). */
export async function findStagedUploads(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, StagedUploadInfo>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('uploads')
    .select(['id', 'account', 'sha256', 'size', 'content_type', 'filename'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        account: row.account,
        sha256: row.sha256,
        size: row.size,
        contentType: row.content_type,
        filename: row.filename,
      },
    ]),
  );
}

export async function readStagedUpload(db: Executor, id: string): Promise<Uint8Array | null> {
  const row = await db.selectFrom('uploads').select('data').where('id', '=', id).executeTakeFirst();
  return row ? new Uint8Array(row.data) : null;
}

/** Drops staged files once taken (or not needed: the same file was stored already). */
export async function dropStagedUploads(db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .deleteFrom('uploads')
    .where('id', 'in', [...ids])
    .execute();
}

/** Deletes at most `limit` staged files created before `before`, oldest first; how many went. */
export async function sweepStagedUploads(db: Executor, before: Date, limit: number): Promise<number> {
  const oldest = db
    .selectFrom('uploads')
    .select('id')
    .where('created_at', '<', before)
    .orderBy('created_at')
    .limit(limit);
  const result = await db.deleteFrom('uploads').where('id', 'in', oldest).executeTakeFirst();
  return Number(result.numDeletedRows);
}
