import type { Executor } from './database.ts';

export interface RefusedMessage {
  actor: string;
  messageId: string;
  kind: string;
  code: string;
  reason: string;
  payload: unknown;
}

/** Records refusals (one statement); a refusal already recorded stays as it was. */
export async function recordRefusedMessages(db: Executor, refused: readonly RefusedMessage[]): Promise<void> {
  if (refused.length === 0) return;
  await db
    .insertInto('refused_messages')
    .values(
      refused.map((r) => ({
        actor: r.actor,
        message_id: r.messageId,
        kind: r.kind,
        code: r.code,
        reason: withoutNul(r.reason.slice(0, 2000)),
        // A message can be refused for holding what PostgreSQL cannot store (NUL): mark it visibly instead.
        payload: JSON.stringify(r.payload ?? null, (_key, value: unknown) =>
          typeof value === 'string' ? withoutNul(value) : value,
        ),
      })),
    )
    .onConflict((oc) => oc.columns(['actor', 'message_id']).doNothing())
    .execute();
}

/**
 * The refusals among these messages (a superset is asked, pairs filtered by the caller); JSON-safe columns,
 * so it can be read with other look-ups (`readTogether`). Null: nothing to ask.
 */
export function findRefusedMessagesQuery(
  db: Executor,
  actors: readonly string[],
  messageIds: readonly string[],
) {
  if (actors.length === 0 || messageIds.length === 0) return null;
  return db
    .selectFrom('refused_messages')
    .select(['actor', 'message_id', 'code', 'reason'])
    .where('actor', 'in', [...actors])
    .where('message_id', 'in', [...messageIds]);
}

/** `text` with NUL shown as `\\0`: neither text nor jsonb columns take NUL. */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '\\0');
}
