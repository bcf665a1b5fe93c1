import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Database } from './tables.js';

/**
 * Sessions active at `now`: not revoked, and neither lifetime run out. The SQL form of core's
 * `isSessionActive` (src/core/records.ts), the one condition every query of live sessions uses.
 */
export function activeAt(now: number): (eb: ExpressionBuilder<Database, 'sessions'>) => Expression<SqlBool> {
  return (eb) => eb.and([eb('revoked_at', 'is', null), eb('idle_expires_at', '>', now), eb('expires_at', '>', now)]);
}
