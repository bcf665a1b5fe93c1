import { isGatehouseError } from '../../core/errors.js';
import { UsageError } from '../args.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { administer, EMAIL_OPTION, emailOption } from './user-context.js';

export const sessionsRevoke = command({
  name: 'revoke',
  summary: 'sign out one session of an account, or all of them',
  usage: 'gatehouse sessions revoke --email EMAIL (--session ID | --all)',
  description: `Signs out one session of the account (--session, an id from \`gatehouse sessions list\`)
or every one (--all). Running servers refuse the sessions' tokens within about a second,
and their refresh tokens at once. Recorded in the account's history as
signed_out_by_admin, with cli as the actor, and sent as a sessions_revoked webhook.
Exits 1 when no account has the email, or it has no active session with that id; 2
when neither or both of --session and --all are given.`,
  success: 'signed out (with --all, also when there was nothing to sign out)',
  options: {
    email: EMAIL_OPTION,
    session: { value: 'ID', description: 'the session to sign out' },
    all: { description: 'sign out every session of the account' },
  },
  async run(options, io) {
    const email = emailOption(options);
    const { session } = options;
    if ((session === undefined) === (options.all === undefined)) throw new UsageError('give either --session ID or --all');
    const config = configOf(io);
    const { userByEmail } = await import('../../service/admin-users.js');
    const { revokeAllSessionsOf, revokeSessionOf } = await import('../../service/admin-sessions.js');
    if (session !== undefined) {
      await administer(config, io.clock, async (ctx) => {
        const { id } = await userByEmail(ctx, email);
        await revokeSessionOf(ctx, { kind: 'cli' }, id, session).catch((error: unknown) => {
          throw isGatehouseError(error, 'not_found') ? new Error(`${email} has no active session ${session}`) : error;
        });
      });
      say(io, `${email}: session ${session} signed out`);
      return 0;
    }
    const count = await administer(config, io.clock, async (ctx) => revokeAllSessionsOf(ctx, { kind: 'cli' }, (await userByEmail(ctx, email)).id));
    say(io, `${email}: ${count} session${count === 1 ? '' : 's'} signed out`);
    return 0;
  },
});
