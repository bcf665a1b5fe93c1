import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENT_TYPES, type EventType } from '../../core/activity.js';
import { GatehouseError } from '../../core/errors.js';
import { listActivity } from '../../service/activity.js';
import { callerOf } from '../plugins/authenticate.js';
import { presentEvent } from '../present.js';
import { ActivityQuery, ActivityResponse } from '../schemas.js';
import type { RouteOptions } from './route-options.js';
import type { RouteDocs } from '../openapi/route-docs.js';

/** /v1/me/activity: the signed-in user's own login history. */
export const activityRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { ctx, authenticate }) => {
  const docs: RouteDocs = {
    summary: 'The login history',
    description:
      'Sign-ins, failures, sign-outs, password changes and the rest, newest first, 20 a page by default. `type` filters by one or more event types, comma-separated; pass `next_cursor` as `cursor` for the next page.',
    tags: ['account'],
    auth: 'bearer',
    responses: { 200: { description: 'One page of events; `next_cursor` is null on the last.' } },
  };
  app.get(
    '/v1/me/activity',
    { onRequest: authenticate, schema: { querystring: ActivityQuery, response: { 200: ActivityResponse } }, config: { docs } },
    async (request) => {
      const caller = callerOf(request);
      const { limit = '20', cursor, type } = request.query;
      const page = await listActivity(ctx, caller, { limit: Number(limit), cursor, types: type === undefined ? undefined : eventTypes(type) });
      return { events: page.events.map((e) => presentEvent(e, caller.sessionId)), next_cursor: page.nextCursor };
    },
  );
};

/** The `type` filter: comma-separated event types (also read by the admin routes). */
export function eventTypes(list: string): EventType[] {
  const types = [...new Set(list.split(',').map((t) => t.trim()))];
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0 || types.length === 0) {
    throw new GatehouseError('validation_failed', 'Unknown event type.', [
      { pointer: '/query/type', detail: `must be one or more of ${EVENT_TYPES.join(', ')}, comma-separated` },
    ]);
  }
  return types as EventType[];
}
