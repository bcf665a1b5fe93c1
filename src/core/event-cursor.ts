import { GatehouseError } from './errors.js';

/**
 * The `next_cursor` of the activity list: the last event's time and id, base64url-encoded.
 * Opaque to clients (they only send it back), so its form can change; a position rather than
 * an offset, so events written meanwhile neither repeat nor skip entries on the next page.
 */
export function encodeEventCursor(event: { at: number; id: string }): string {
  return Buffer.from(`${event.at}.${event.id}`).toString('base64url');
}

export function decodeEventCursor(cursor: string, pointer: string): { at: number; id: string } {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{1,64})$/.exec(text);
  const at = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(at)) {
    throw new GatehouseError('validation_failed', 'The cursor is not valid.', [{ pointer, detail: 'must be a next_cursor from a previous page' }]);
  }
  return { at, id: match[2]! };
}
