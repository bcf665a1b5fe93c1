import type { Revocation } from './revoked-sessions.js';

/** A `revocations` message of the feed (the JSON answer and the SSE event carry the same object). */
export interface RevocationsMessage {
  revocations: Revocation[];
  cursor: string;
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  retentionSeconds: number;
  stalenessMs: number;
}

/** A `heartbeat` message: nothing new since the last one, confirmed `stalenessMs` ago. */
export interface HeartbeatMessage {
  cursor: string;
  stalenessMs: number;
}

/**
 * A message that does not have the contract's shape is a reason to drop the connection, not to
 * guess: skipping a batch would silently lose sign-outs, so the caller reconnects from its last
 * good cursor instead.
 */
export class FeedProtocolError extends Error {
  override name = 'FeedProtocolError';
}

export function readRevocationsMessage(data: string): RevocationsMessage {
  const message = parseObject(data);
  const list = message.revocations;
  if (!Array.isArray(list)) throw new FeedProtocolError('revocations is not a list');
  const revocations = list.map((entry: unknown): Revocation => {
    const { session_id: sessionId, revoked_at: revokedAt } = (entry ?? {}) as Record<string, unknown>;
    const at = typeof revokedAt === 'string' ? Date.parse(revokedAt) : NaN;
    if (typeof sessionId !== 'string' || sessionId === '' || !Number.isFinite(at)) {
      throw new FeedProtocolError('a revocation lacks a session_id or a valid revoked_at');
    }
    return { sessionId, revokedAt: at };
  });
  return {
    revocations,
    cursor: cursorOf(message),
    accessTokenTtlSeconds: count(message, 'access_token_ttl', 1),
    clockToleranceSeconds: count(message, 'clock_tolerance', 0),
    retentionSeconds: count(message, 'retention_seconds', 1),
    stalenessMs: count(message, 'staleness_ms', 0),
  };
}

export function readHeartbeatMessage(data: string): HeartbeatMessage {
  const message = parseObject(data);
  return { cursor: cursorOf(message), stalenessMs: count(message, 'staleness_ms', 0) };
}

function parseObject(data: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new FeedProtocolError('a message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FeedProtocolError('a message is not a JSON object');
  return value as Record<string, unknown>;
}

function cursorOf(message: Record<string, unknown>): string {
  if (typeof message.cursor !== 'string' || message.cursor === '') throw new FeedProtocolError('a message has no cursor');
  return message.cursor;
}

function count(message: Record<string, unknown>, name: string, min: number): number {
  const value = message[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new FeedProtocolError(`${name} is not a number of at least ${min}`);
  return value;
}
