import { GatehouseError } from '../../core/errors.js';

/** Socket-level failures: the server is down, restarting, or the network between us is. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs for "not now" rather than "wrong query": class 08 (connection
 * exception), 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now), class 53
 * (insufficient resources: disk full, out of memory, too many connections), 57014 (statement
 * cancelled: a timeout), 55P03 (lock not available: lock_timeout), 25006 (read-only
 * transaction: connected to a standby, or during a failover), 40001 and 40P01 (serialization
 * failure, deadlock detected: the transaction was rolled back and a retry would succeed).
 */
const POSTGRES_STATES = /^(08\d{3}|57P0[123]|53\d{3}|57014|55P03|25006|40001|40P01)$/;

/** SQLite result codes for a database that is locked, unreadable or full, as opposed to a bug. */
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/;

/** pg reports these without a code. */
const POSTGRES_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Query read timeout/i;

/** True when the error says the database cannot serve us right now, rather than a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_STATES.test(code) || SQLITE_CODES.test(code))) return true;
  return POSTGRES_MESSAGES.test(error.message);
}

/**
 * Wraps a store so that "the database is down" leaves every method as GatehouseError
 * `unavailable` (503): the client did nothing wrong and should retry, and operators see a 503
 * rate rather than a wall of 500s. Other errors pass through untouched.
 */
export function reportingUnavailable<T extends object>(store: T): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          throw translate(error);
        }
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(translate(error))) : result;
      };
    },
  });
}

function translate(error: unknown): unknown {
  if (!isDatabaseUnavailable(error)) return error;
  return new GatehouseError('unavailable', 'The database cannot be reached right now; try again shortly.', undefined, { cause: error });
}
