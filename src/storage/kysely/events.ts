import type { Expression, ExpressionBuilder, Kysely, SqlBool, Transaction } from 'kysely';
import type { ActivityEvent, EventType, StoredEvent } from '../../core/activity.js';
import type { Dialect } from './dialect.js';
import { withMonthsSteady } from './event-months.js';
import { insertMail } from './mail-outbox.js';
import { alertMail } from '../../core/alert-mail.js';
import type { Database, EventsTable } from './tables.js';
import type { EventPage } from '../store.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Appends events and, for those that notify, their outbox rows (a webhook delivery, an alert
 * mail): always called with the transaction of the change they describe (or alone, for events
 * that change nothing else).
 */
export async function insertEvents(db: Db, events: ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('events').values(events.map(fromEvent)).execute();
  await insertMail(db, events.flatMap(alertMail));
  const deliveries = events.filter((e) => e.notify !== null);
  if (deliveries.length === 0) return;
  await db
    .insertInto('webhook_deliveries')
    .values(deliveries.map((e) => ({ event_id: e.id, type: e.notify as string, created_at: e.at, next_attempt_at: e.at })))
    .execute();
}

/** One page of a user's history, newest first; ties in time are broken by id, as the cursor is. */
export async function selectUserEvents(db: Db, userId: string, page: EventPage): Promise<StoredEvent[]> {
  let query = db.selectFrom('events').selectAll().where('user_id', '=', userId);
  if (page.types !== undefined) query = query.where('type', 'in', page.types);
  const before = page.before;
  if (before !== undefined) {
    // A row value, not `at < ? OR (at = ? AND id < ?)`: both databases read it as one range of
    // the (user_id, at, id) index, so a page deep in a long history costs what the first does.
    // The bound on `at` alone, which the row value implies, lets PostgreSQL leave out the months
    // after the cursor (migration 0013) when it plans, rather than search each of them.
    query = query.where((eb) => eb(eb.refTuple('at', 'id'), '<', eb.tuple(before.at, before.id))).where('at', '<=', before.at);
  }
  const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
  return rows.map(toEvent);
}

export async function selectEvent(db: Db, id: string): Promise<StoredEvent | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toEvent(row);
}

/**
 * Deletes up to `limit` events older than `before`, then, in what the limit leaves, events
 * without a user older than `userlessBefore`: oldest first, each a range of one index
 * (events_at, events_user_at), so a batch costs what it deletes however long the history.
 */
export async function deleteEventsBefore(db: Kysely<Database>, dialect: Dialect, before: number, limit: number, userlessBefore = before): Promise<number> {
  const aged = await deleteOldest(db, dialect, (eb) => eb('at', '<', before), limit);
  if (aged >= limit || userlessBefore <= before) return aged;
  return aged + (await deleteOldest(db, dialect, (eb) => eb.and([eb('user_id', 'is', null), eb('at', '<', userlessBefore)]), limit - aged));
}

type EventCondition = (eb: ExpressionBuilder<Database, 'events'>) => Expression<SqlBool>;

async function deleteOldest(db: Kysely<Database>, dialect: Dialect, condition: EventCondition, limit: number): Promise<number> {
  if (!dialect.eventsByMonth) {
    // The outbox row and the report go by their foreign keys' cascade.
    const result = await db
      .deleteFrom('events')
      .where('id', 'in', (eb) => eb.selectFrom('events').select('id').where(condition).orderBy('at').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
  // Nothing references a partitioned `events` (migration 0013): its outbox rows and reports go
  // in the same statement. The condition is repeated on the DELETE so that it reads only the
  // partitions that can hold such rows; (id, at) is each partition's primary key. It waits for a
  // making or dropping of months under way (a drop and a batch would deadlock).
  const row = await withMonthsSteady(db, (trx) =>
    trx
      .with('doomed', (qb) => qb.selectFrom('events').select(['id', 'at']).where(condition).orderBy('at').limit(limit))
      .with('gone', (qb) =>
        qb
          .deleteFrom('events')
          .where(condition)
          .where((eb) => eb(eb.refTuple('id', 'at'), 'in', eb.selectFrom('doomed').select(['id', 'at']).$asTuple('id', 'at')))
          .returning('id'),
      )
      .with('outbox', (qb) => qb.deleteFrom('webhook_deliveries').where('event_id', 'in', (eb) => eb.selectFrom('gone').select('id')))
      .with('reports', (qb) => qb.deleteFrom('sign_in_reports').where('event_id', 'in', (eb) => eb.selectFrom('gone').select('id')))
      .selectFrom('gone')
      .select((eb) => eb.fn.countAll<number | string>().as('deleted'))
      .executeTakeFirstOrThrow(),
  );
  return Number(row.deleted);
}

function fromEvent(event: ActivityEvent): EventsTable {
  const { client } = event;
  return {
    id: event.id,
    user_id: event.userId,
    session_id: event.sessionId,
    type: event.type,
    at: event.at,
    actor: event.actor,
    ip: client?.ip ?? null,
    user_agent: client?.userAgent ?? null,
    browser: client?.device.browser ?? null,
    os: client?.device.os ?? null,
    device_type: client?.device.type ?? null,
    device_label: client?.device.label ?? null,
    country: client?.country ?? null,
    detail: JSON.stringify(event.detail),
  };
}

export function toEvent(row: EventsTable): StoredEvent {
  return {
    id: row.id,
    type: row.type as EventType,
    at: row.at,
    userId: row.user_id,
    sessionId: row.session_id,
    actor: row.actor,
    client:
      row.ip === null
        ? null
        : {
            ip: row.ip,
            userAgent: row.user_agent ?? '',
            country: row.country,
            device: { browser: row.browser, os: row.os, type: row.device_type ?? 'other', label: row.device_label ?? 'Unknown device' },
          },
    detail: JSON.parse(row.detail) as StoredEvent['detail'],
  };
}
