import { loadConfig } from '../../config.js';
import type { Command } from '../command.js';
import { administer, EMAIL_OPTION, emailOption } from './user-context.js';

export const userEnable: Command = {
  name: 'enable',
  summary: 'let a disabled account sign in again',
  usage: 'gatehouse user enable --email EMAIL',
  description: `Enables a disabled account: it can sign in again. The sessions that disabling ended
stay ended. Recorded in the account's history as account_enabled, with cli as the actor.
Exits 1 when no account has the email.`,
  success: 'the account is enabled (also when it was already)',
  options: { email: EMAIL_OPTION },
  async run(options) {
    const email = emailOption(options);
    const config = loadConfig();
    const { enableUser, userByEmail } = await import('../../service/admin-users.js');
    const change = await administer(config, async (ctx) => enableUser(ctx, { kind: 'cli' }, (await userByEmail(ctx, email)).id));
    console.log(`${change.user.email}: ${change.changed ? 'enabled' : 'was enabled already'}`);
    return 0;
  },
};
