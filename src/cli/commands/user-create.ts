import { GatehouseError } from '../../core/errors.js';
import { UsageError } from '../args.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';
import { readNewPassword } from './user-password.js';
import { administer, emailOption, roleValue } from './user-context.js';

export const userCreate = command({
  name: 'create',
  summary: 'create an account; the password is read from stdin or asked for',
  usage: 'gatehouse user create --email EMAIL [--name NAME] [--role admin|user]',
  description: `Creates an account as registration would, with the same email check and password
policy, and prints its id. The password is never an argument (anyone on the machine can
read those): on a terminal it is asked for twice without echo; otherwise it is the first
line of stdin, e.g.
  printf '%s\\n' "$PASSWORD" | gatehouse user create --email ann@example.com --role admin
Exits 1 when the email has an account already or the password is refused (too short,
too common, part of the email), with the reason; 2 when --email, --name or --role is
not valid, or no password came.`,
  success: 'created; its id is printed',
  options: {
    email: { value: 'EMAIL', description: "the new account's email address" },
    name: { value: 'NAME', description: 'its display name (optional)' },
    role: { value: 'ROLE', description: 'admin or user (default: user)' },
  },
  async run(options, io) {
    const email = emailOption(options);
    const role = roleValue(options.role ?? 'user');
    const { name } = options;
    const config = configOf(io);
    // Checked before the password is asked for: a typo should not cost typing it twice.
    const { parseEmail } = await import('../../core/email.js');
    const { parseName } = await import('../../service/register.js');
    asUsage(() => parseEmail(email, '/email'), `--email must be an email address such as ann@example.com; got ${JSON.stringify(email)}`);
    asUsage(() => parseName(name), '--name must be at most 100 characters, without control characters');
    const password = await readNewPassword(io.stdin, io.stderr);
    const { createAccount } = await import('../../service/admin-users.js');
    const { argon2Hasher } = await import('../../passwords/argon2-hasher.js');
    const { commonPasswords } = await import('../../passwords/common-passwords.js');
    const rules = { minPasswordLength: config.minPasswordLength, commonPasswords: commonPasswords() };
    const user = await administer(config, io.clock, (ctx) =>
      createAccount({ ...ctx, hasher: argon2Hasher(), ...rules }, { kind: 'cli' }, { email, password, name, role }),
    );
    say(io, user.id);
    return 0;
  },
});

function asUsage(check: () => unknown, message: string): void {
  try {
    check();
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'validation_failed') throw new UsageError(message);
    throw error;
  }
}
