import { UsageError } from '../args.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { administer, EMAIL_OPTION, emailOption, roleValue } from './user-context.js';

export const userSetRole = command({
  name: 'set-role',
  summary: 'make an account an administrator, or an ordinary user again',
  usage: 'gatehouse user set-role --email EMAIL --role admin|user',
  description: `Gives the account the role: admin (the admin API, /v1/admin/…, opens to it) or user.
Only this command changes roles, not the API: making administrators takes access to the
server. A demoted administrator's next admin request is refused; their sessions go on.
The change is in the account's history as role_changed, with cli as the actor.
Exits 1 when no account has the email; 2 when --role is not admin or user.`,
  success: 'the account has the role (also when it had it already)',
  options: {
    email: EMAIL_OPTION,
    role: { value: 'ROLE', description: 'admin or user' },
  },
  async run(options, io) {
    const email = emailOption(options);
    const given = options.role;
    if (given === undefined) throw new UsageError('--role is required: --role admin|user');
    const role = roleValue(given);
    const config = configOf(io);
    const { setRole, userByEmail } = await import('../../service/admin-users.js');
    const change = await administer(config, io.clock, async (ctx) => setRole(ctx, { kind: 'cli' }, (await userByEmail(ctx, email)).id, role));
    say(io, `${change.user.email}: ${change.changed ? `role is now ${role} (was ${change.previous.role})` : `role was ${role} already`}`);
    return 0;
  },
});
