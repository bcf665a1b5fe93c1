import type { CommandGroup } from '../command.js';
import { mailTest } from './mail-test.js';

export const mail: CommandGroup = {
  name: 'mail',
  summary: 'send a test message to check the way mail leaves',
  description: `Email (reset, verification and address-change links, security alerts), sent by the
servers through the mail outbox to GATEHOUSE_SMTP_URL. gatehouse doctor checks the connection and login;
gatehouse mail test sends a real message and shows the server's answer.`,
  subcommands: [mailTest],
};
