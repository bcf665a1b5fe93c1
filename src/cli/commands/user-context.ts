import type { Config } from '../../config.js';
import type { Clock } from '../../core/clock.js';
import { GatehouseError } from '../../core/errors.js';
import type { Role } from '../../core/records.js';
import type { AdminContext } from '../../service/admin.js';
import type { Store } from '../../storage/store.js';
import { UsageError } from '../args.js';
import { withStore } from '../with-store.js';

/** What the `user` and `sessions` commands share: their context, and how they speak. */

/**
 * The use cases of administration, run from the CLI on a store of its own. There is no
 * revocation view in this process to tell: running servers learn of the sessions it ends from
 * the database, as they learn of another node's (PostgreSQL NOTIFY, then the one-second
 * catch-up). Webhooks and alert mail are written to their outboxes whenever the servers send
 * them, so the account's owner hears of what an operator did as of anything else.
 */
export function cliContext(config: Readonly<Config>, store: Store, clock: Clock): AdminContext {
  return {
    store,
    clock,
    revocations: { revoked: () => {} },
    log: () => {},
    webhooks: config.webhookUrl !== undefined,
    mailAlerts: new Set(config.mail.kind === 'off' ? [] : config.mailAlerts),
  };
}

/**
 * Runs `work` on the database, and says a refusal as a sentence (`no account has the email
 * …`) rather than as its code: exit code 1 with that one line. The use cases are loaded
 * here, not at the top: `--help` should not wait for them or for the database drivers.
 */
export async function administer<T>(config: Readonly<Config>, clock: Clock, work: (ctx: AdminContext) => Promise<T>): Promise<T> {
  try {
    return await withStore(config, (store) => work(cliContext(config, store, clock)));
  } catch (error) {
    if (error instanceof GatehouseError && error.detail !== undefined) throw new Error(lowerFirst(error.detail), { cause: error });
    throw error;
  }
}

/** `No account has the email ann@example.com.` → `no account has the email ann@example.com`, as the other lines read. */
const lowerFirst = (text: string) => (text.charAt(0).toLowerCase() + text.slice(1)).replace(/\.$/, '');

export const EMAIL_OPTION = { value: 'EMAIL', description: 'the account, by its email address (any case)' } as const;

/** `--email`, which every command of these groups needs. */
export function emailOption(options: { readonly email?: string }): string {
  const { email } = options;
  if (email === undefined || email.trim() === '') throw new UsageError('--email is required: --email EMAIL');
  return email.trim();
}

export function roleValue(value: string): Role {
  if (value !== 'admin' && value !== 'user') throw new UsageError(`--role must be admin or user; got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Text a client chose (a user agent, the device label made from it) on an operator's
 * terminal: control characters, C1 ones included, become U+FFFD, so nobody who signs in can
 * send escape sequences to whoever lists their sessions.
 */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, '\uFFFD');
}
