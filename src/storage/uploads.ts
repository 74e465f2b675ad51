/**
 * Staged uploads: the claim check of a multipart `PUT /customer`. A bus message is at most 1 MB and a
 * SEP-12 file several MB, so HTTP stores each file here first and sends only a reference (id, sha256,
 * size, content type, filename); the customer actor takes the bytes into `customer_files` in the database
 * transaction that applies the command, and drops the staged row. Rows nobody took (a 4xx after staging, a
 * command that timed out and was never applied) are swept once they are old.
 *
 * A file is written as it arrives, in rows of at most `chunkBytes` (`upload_chunks`), hashed as it goes:
 * a request holds a chunk or so in memory whatever the file's size, and no statement carries a whole file
 * (on the embedded database one statement holds the only connection and the event loop).
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
  /**
   * Stores one file of `account` as `data` yields it; what the command carries instead of the bytes. When
   * `data` throws (a cap, a broken body), what was stored of the file is deleted and the error rethrown.
   */
  stage(upload: {
    account: string;
    contentType: string;
    filename: string | null;
    /** The file as it arrives, or whole. */
    data: AsyncIterable<Uint8Array> | Uint8Array;
  }): Promise<StagedUpload>;
  /** Deletes staged files a request no longer needs (it failed before its command was sent). */
  drop(ids: readonly string[]): Promise<void>;
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
  /** The largest row of bytes written. Default {@link UPLOAD_CHUNK_BYTES}. */
  chunkBytes?: number;
  clock?: () => Date;
}

export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Small enough that one insert is short on the embedded database, large enough that a file is few rows. */
export const UPLOAD_CHUNK_BYTES = 256 * 1024;

export function createUploadStore(db: Kysely<Database>, options: UploadStoreOptions = {}): UploadStore {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS;
  const sweepEveryMs = options.sweepEveryMs ?? 10 * 60 * 1000;
  const sweepLimit = options.sweepLimit ?? 100;
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
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
      const id = randomUUID();
      // The row comes first so its chunks hang off it (and go with it); no hash yet: not takeable.
      await db
        .insertInto('uploads')
        .values({
          id,
          account: upload.account,
          content_type: upload.contentType,
          filename: upload.filename,
          size: 0,
          sha256: null,
          created_at: clock(),
        })
        .execute();
      try {
        const hash = createHash('sha256');
        let size = 0;
        let seq = 0;
        const source = upload.data instanceof Uint8Array ? [upload.data] : upload.data;
        for await (const chunk of rechunk(source, chunkBytes)) {
          hash.update(chunk);
          size += chunk.byteLength;
          await db.insertInto('upload_chunks').values({ upload_id: id, seq: seq++, data: chunk }).execute();
        }
        const sha256 = hash.digest('hex');
        await db.updateTable('uploads').set({ size, sha256 }).where('id', '=', id).execute();
        return { id, sha256, size, contentType: upload.contentType, filename: upload.filename };
      } catch (error) {
        // Left to the sweep if this fails too.
        await dropStagedUploads(db, [id]).catch(() => undefined);
        throw error;
      }
    },
    drop: (ids) => dropStagedUploads(db, ids),
    sweep,
  };
}

/** The bytes of `source` regrouped into chunks of exactly `size` bytes (the last one shorter). */
export async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let held = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.byteLength) {
      const take = Math.min(size - held, piece.byteLength - offset);
      pieces.push(piece.subarray(offset, offset + take));
      held += take;
      offset += take;
      if (held === size) {
        yield Buffer.concat(pieces, held);
        pieces = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield Buffer.concat(pieces, held);
}

/** The complete staged files with these ids (without their bytes). */
export async function findStagedUploads(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, StagedUploadInfo>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('uploads')
    .select(['id', 'account', 'sha256', 'size', 'content_type', 'filename'])
    .where('id', 'in', [...ids])
    .where('sha256', 'is not', null)
    .$narrowType<{ sha256: string }>()
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

/** A complete staged file's bytes (for an integration that reads it before it is taken). */
export async function readStagedUpload(db: Executor, id: string): Promise<Uint8Array | null> {
  const upload = await db
    .selectFrom('uploads')
    .select('id')
    .where('id', '=', id)
    .where('sha256', 'is not', null)
    .executeTakeFirst();
  if (!upload) return null;
  const chunks = await db
    .selectFrom('upload_chunks')
    .select('data')
    .where('upload_id', '=', id)
    .orderBy('seq')
    .execute();
  return Buffer.concat(chunks.map((chunk) => chunk.data));
}

/** Drops staged files (their chunks go with them) once taken, or not needed. */
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
