import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { administer, EMAIL_OPTION, emailOption } from './user-context.js';

export const userDisable = command({
  name: 'disable',
  summary: 'disable an account and end all its sessions',
  usage: 'gatehouse user disable --email EMAIL',
  description: `Disables the account: every one of its sessions ends (running servers refuse their
tokens within about a second), and it cannot sign in, getting exactly the answer of a
wrong password, until \`gatehouse user enable\`. Recorded in the account's history as
account_disabled, with cli as the actor, and sent as a sessions_revoked webhook when it
ended sessions. Exits 1 when no account has the email.`,
  success: 'the account is disabled (also when it was already)',
  options: { email: EMAIL_OPTION },
  async run(options, io) {
    const email = emailOption(options);
    const config = configOf(io);
    const { disableUser, userByEmail } = await import('../../service/admin-users.js');
    const change = await administer(config, io.clock, async (ctx) => disableUser(ctx, { kind: 'cli' }, (await userByEmail(ctx, email)).id));
    const ended = `${change.revoked.length} session${change.revoked.length === 1 ? '' : 's'} ended`;
    say(io, `${change.user.email}: ${change.changed ? 'disabled' : 'was disabled already'}; ${ended}`);
    return 0;
  },
});
