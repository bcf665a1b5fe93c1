import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SECOND } from '../../core/clock.js';
import { GatehouseError } from '../../core/errors.js';
import type { RevokedSession } from '../../core/records.js';
import { CURSOR_PATTERN, decodeCursor, encodeCursor, readFrom } from '../../revocation/feed-cursor.js';
import type { RevocationSync } from '../../revocation/revocation-sync.js';
import type { RevocationView } from '../../revocation/revocation-view.js';
import type { ServiceContext } from '../../service/context.js';
import { openEventStream, type EventStream } from '../event-stream.js';
import { serviceAuthenticator } from '../plugins/service-auth.js';
import { presentRevocations } from '../present.js';
import { RevocationFeedQuery, RevocationFeedResponse, type RevocationFeedJson } from '../schemas.js';
import type { RouteDocs } from '../openapi/route-docs.js';

export interface RevocationFeedOptions {
  ctx: ServiceContext;
  view: RevocationView;
  sync: RevocationSync;
  serviceKeys: readonly string[];
  /** How often a stream says "nothing new, and this is how fresh that is". */
  heartbeatMs?: number;
}

/** Well inside the 5 s default staleness bound of a verifier, even with one heartbeat lost. */
const HEARTBEAT_MS = 1 * SECOND;
const RECONNECT_MS = 1 * SECOND;

/**
 * GET /v1/revocations: sessions revoked since a cursor, for other services that verify access
 * tokens themselves (gatehouse/verify). A plain GET answers from the database; with
 * `Accept: text/event-stream` the answer stays open and streams each revocation this node
 * learns (its own at once, other nodes' through NOTIFY or the catch-up), with heartbeats that
 * tell the reader how fresh its knowledge is. Readers resume with the last cursor (`since`, or
 * `Last-Event-ID` when an EventSource reconnects).
 */
export const revocationRoutes: FastifyPluginAsyncTypebox<RevocationFeedOptions> = async (app, options) => {
  const { ctx, view, sync } = options;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const settings = {
    access_token_ttl: ctx.tokens.ttlSeconds,
    clock_tolerance: ctx.tokens.clockToleranceSeconds,
    retention_seconds: Math.ceil(view.retentionMs / SECOND),
  };
  const streams = new Set<EventStream>();
  // Open streams would keep the server from closing: end them first; readers reconnect elsewhere.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
  app.addHook('onRequest', serviceAuthenticator(options.serviceKeys));

  app.get(
    '/v1/revocations',
    { schema: { querystring: RevocationFeedQuery, response: { 200: RevocationFeedResponse } }, config: { docs: DOCS } },
    async (request, reply) => {
      const cursor = cursorOf(request.query.since, request.headers['last-event-id']);
      const streaming = /\btext\/event-stream\b/i.test(request.headers.accept ?? '');
      // Listen before reading, so that nothing revoked during the read falls between the two.
      const pending: RevokedSession[] = [];
      let live: ((added: RevokedSession[]) => void) | undefined;
      const unsubscribe = streaming ? view.subscribe((added) => (live ? live(added) : pending.push(...added))) : () => {};
      // Cleaning up must not depend on a 'close' event that may come while the read is running.
      let heartbeat: NodeJS.Timeout | undefined;
      let stream: EventStream | undefined;
      reply.raw.once('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        if (stream) streams.delete(stream);
      });
      const startedAt = ctx.clock.now();
      const startedMonotonic = ctx.clock.monotonic();
      const readAgo = () => Math.round(ctx.clock.monotonic() - startedMonotonic);
      let revoked: RevokedSession[];
      try {
        revoked = await ctx.store.listRevokedSince(readFrom(cursor, view.horizon(), startedAt));
      } catch (error) {
        unsubscribe();
        throw error;
      }
      if (streaming && (request.raw.destroyed || reply.raw.destroyed)) {
        unsubscribe(); // the reader left during the read
        return reply.hijack();
      }
      const answer = (sessions: RevokedSession[], cursorNow: string, stalenessMs: number): RevocationFeedJson => ({
        revocations: presentRevocations(sessions),
        cursor: cursorNow,
        ...settings,
        staleness_ms: Math.max(0, stalenessMs),
      });
      if (!streaming) return answer(revoked, encodeCursor(startedAt), readAgo());

      reply.hijack();
      stream = openEventStream(reply.raw, RECONNECT_MS);
      streams.add(stream);
      // Everything committed before the last catch-up is in the view, and everything the view
      // learnt since this stream began has been sent on it: that is the stream's cursor.
      const current = () => encodeCursor(Math.max(startedAt, sync.lastConfirmedAt()));
      const open = stream;
      open.send('revocations', encodeCursor(startedAt), answer(revoked, encodeCursor(startedAt), readAgo()));
      live = (added) => {
        const cursorNow = current();
        open.send('revocations', cursorNow, answer(added, cursorNow, sync.staleness()));
      };
      if (pending.length > 0) live(pending.splice(0));
      heartbeat = setInterval(() => {
        const cursorNow = current();
        open.send('heartbeat', cursorNow, { cursor: cursorNow, staleness_ms: sync.staleness() });
      }, heartbeatMs);
    },
  );
};

const STREAM_EXAMPLE = [
  'retry: 1000',
  '',
  'event: revocations',
  'id: 1772621042600',
  'data: {"revocations":[{"session_id":"Mn5Bv6Cx7Zl8Kj9Hg0Fd1s","revoked_at":"2026-03-04T10:44:02.512Z"}],"cursor":"1772621042600","access_token_ttl":900,"clock_tolerance":5,"retention_seconds":960,"staleness_ms":12}',
  '',
  'event: heartbeat',
  'id: 1772621043600',
  'data: {"cursor":"1772621043600","staleness_ms":8}',
  '',
  '',
].join('\n');

const DOCS: RouteDocs = {
  summary: 'Sessions revoked since a cursor',
  description:
    'For services that verify access tokens themselves (`gatehouse/verify`). Without `since`, every revocation that still matters. With `Accept: text/event-stream` the answer stays open: a `revocations` event with the same object at once, one for each later revocation, and a `heartbeat` event every second saying how fresh the answer is. Resume with the last cursor, as `since` or `Last-Event-ID`.',
  tags: ['services'],
  auth: 'service',
  headers: {
    'Last-Event-ID': {
      description: 'The last cursor received, sent by an EventSource that reconnects; wins over `since`.',
      schema: Type.String({ pattern: CURSOR_PATTERN }),
    },
  },
  errors: ['unavailable'],
  responses: {
    200: {
      description: 'The revocations, the cursor to resume from, and the settings a verifier needs; or, for `Accept: text/event-stream`, a stream of them.',
      content: { 'text/event-stream': { schema: Type.String(), example: STREAM_EXAMPLE } },
    },
  },
};

/** The resume point: Last-Event-ID (an EventSource reconnecting) wins over `since`. */
function cursorOf(since: string | undefined, lastEventId: string | string[] | undefined): number | undefined {
  if (lastEventId === undefined) return since === undefined ? undefined : decodeCursor(since);
  const cursor = typeof lastEventId === 'string' ? decodeCursor(lastEventId.trim()) : undefined;
  if (cursor === undefined) {
    const pointer = '/headers/last-event-id';
    throw new GatehouseError('validation_failed', `${pointer} must be a cursor from this feed`, [{ pointer, detail: 'must be a cursor from this feed' }]);
  }
  return cursor;
}
