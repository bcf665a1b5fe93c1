import { newEvent, type EventDetail, type EventType, type StoredEvent } from '../core/activity.js';
import { decodeEventCursor, encodeEventCursor } from '../core/event-cursor.js';
import type { ClientInfo } from '../core/records.js';
import type { Caller, ServiceContext } from './context.js';

/** An event happening now, with its webhook when one is configured and its alert mail when chosen (core/activity.ts). */
export function event(
  ctx: ServiceContext,
  type: EventType,
  fields: { userId: string | null; sessionId?: string | null; actor?: string | null; client?: ClientInfo | null; detail?: EventDetail },
) {
  return newEvent(type, ctx.clock.now(), fields, { webhooks: ctx.webhooks, mail: ctx.mailAlerts });
}

export interface ActivityPage {
  events: StoredEvent[];
  nextCursor: string | null;
}

/**
 * The caller's own history, newest first. One more event than asked for is read to learn
 * whether there is a next page, so the last page says so (`next_cursor: null`) instead of
 * sending the client to an empty one.
 */
export async function listActivity(
  ctx: Pick<ServiceContext, 'store'>,
  caller: Pick<Caller, 'userId'>,
  query: { limit: number; cursor?: string | undefined; types?: EventType[] | undefined },
): Promise<ActivityPage> {
  const before = query.cursor === undefined ? undefined : decodeEventCursor(query.cursor, '/query/cursor');
  const found = await ctx.store.listUserEvents(caller.userId, {
    limit: query.limit + 1,
    ...(before === undefined ? {} : { before }),
    ...(query.types === undefined ? {} : { types: query.types }),
  });
  const events = found.slice(0, query.limit);
  const last = events.at(-1);
  return { events, nextCursor: found.length > query.limit && last ? encodeEventCursor(last) : null };
}
