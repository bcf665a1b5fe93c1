import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { administer, EMAIL_OPTION, emailOption } from './user-context.js';

export const userEnable = command({
  name: 'enable',
  summary: 'let a disabled account sign in again',
  usage: 'gatehouse user enable --email EMAIL',
  description: `Enables a disabled account: it can sign in again. The sessions that disabling ended
stay ended. Recorded in the account's history as account_enabled, with cli as the actor.
Exits 1 when no account has the email.`,
  success: 'the account is enabled (also when it was already)',
  options: { email: EMAIL_OPTION },
  async run(options, io) {
    const email = emailOption(options);
    const config = configOf(io);
    const { enableUser, userByEmail } = await import('../../service/admin-users.js');
    const change = await administer(config, io.clock, async (ctx) => enableUser(ctx, { kind: 'cli' }, (await userByEmail(ctx, email)).id));
    say(io, `${change.user.email}: ${change.changed ? 'enabled' : 'was enabled already'}`);
    return 0;
  },
});
