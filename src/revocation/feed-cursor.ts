import { CATCH_UP_OVERLAP_MS } from './revocation-sync.js';

/**
 * A revocation-feed cursor is a moment on the server's clock, in ms: the reader has every
 * revocation committed before it. Clients treat it as an opaque string and hand it back.
 */
export function encodeCursor(at: number): string {
  return String(at);
}

export const CURSOR_PATTERN = '^[0-9]{1,15}$';

export function decodeCursor(cursor: string): number | undefined {
  return new RegExp(CURSOR_PATTERN).test(cursor) ? Number(cursor) : undefined;
}

/**
 * Where a read for `cursor` starts: a little before it, for the same reason the catch-up
 * re-reads (a transaction stamped before it committed, a revoking node whose clock lags), and
 * never before the view's horizon, since older revocations concern only expired tokens. A
 * cursor from the future (a client's bug) is read as now. Readers therefore see some
 * revocations twice; applying one is idempotent.
 */
export function readFrom(cursor: number | undefined, horizon: number, now: number): number {
  if (cursor === undefined) return horizon;
  return Math.max(Math.min(cursor, now) - CATCH_UP_OVERLAP_MS, horizon);
}
