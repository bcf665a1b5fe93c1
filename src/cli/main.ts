import { parseOptions, UsageError } from './args.js';
import { commandHelp, exitCodes, groupHelp, isGroup, type Command, type CommandEntry } from './command.js';
import { COMMANDS } from './commands/index.js';
import { failureLine } from './failure.js';
import { complain, processIo, type CliIo } from './io.js';

/**
 * Runs `gatehouse <command> [options]` and resolves with the exit code: 0 done, 1 failed
 * (one line on stderr), 2 called wrong (one line on stderr naming the help to read). Help goes
 * to stdout with 0, so `gatehouse serve --help | less` works.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  const print = (text: string) => {
    io.stdout.write(text);
    return 0;
  };
  const usageError = (error: unknown, path?: string) => {
    if (!(error instanceof UsageError)) throw error;
    complain(io, `gatehouse: ${error.message} (see: gatehouse ${path ? `${path} ` : ''}--help)`);
    return 2;
  };
  if (asksHelp(name) || (name === 'help' && (rest.length === 0 || asksHelp(rest[0])))) return print(overview());
  if (name === 'help') return help(rest, print, usageError);
  if (name === undefined) return usageError(new UsageError('no command given'));
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) return usageError(new UsageError(`unknown command ${JSON.stringify(name)}`));
  if (!isGroup(entry)) return runCommand(entry, rest, name);

  const [subname, ...subrest] = rest;
  if (asksHelp(subname)) return print(groupHelp(entry));
  if (subname === undefined) return usageError(new UsageError(`${name} needs a command: ${entry.subcommands.map((c) => c.name).join(', ')}`), name);
  const command = entry.subcommands.find((c) => c.name === subname);
  if (!command) return usageError(new UsageError(`unknown command ${JSON.stringify(`${name} ${subname}`)}`), name);
  return runCommand(command, subrest, `${name} ${subname}`);

  /** `path` is how the command is called (`serve`, `user create`), for the help an error points at. */
  async function runCommand(command: Command, args: string[], path: string): Promise<number> {
    let options: ReturnType<typeof parseOptions>;
    try {
      options = parseOptions(args, command.options);
    } catch (error) {
      return usageError(error, path);
    }
    if (options.help) return print(commandHelp(command));
    try {
      return await command.run(options, io);
    } catch (error) {
      if (error instanceof UsageError) return usageError(error, path);
      complain(io, failureLine(error));
      return 1;
    }
  }
}

function asksHelp(arg: string | undefined): boolean {
  return arg === '--help' || arg === '-h';
}

/** `gatehouse help <command>` and `gatehouse help <group> <command>`. */
function help(names: string[], print: (text: string) => number, usageError: (error: unknown, path?: string) => number): number {
  const [name = '', subname, ...extra] = names;
  if (extra.length > 0) return usageError(new UsageError('help takes a command name, or a group and one of its commands'));
  const entry: CommandEntry | undefined = COMMANDS.find((c) => c.name === name);
  if (!entry) return usageError(new UsageError(`unknown command ${JSON.stringify(name)}`));
  if (subname === undefined) return print(isGroup(entry) ? groupHelp(entry) : commandHelp(entry));
  const command = isGroup(entry) ? entry.subcommands.find((c) => c.name === subname) : undefined;
  if (!command) return usageError(new UsageError(`unknown command ${JSON.stringify(`${name} ${subname}`)}`), isGroup(entry) ? name : undefined);
  return print(commandHelp(command));
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: gatehouse <command> [options]',
    '',
    'Gatehouse, the authentication server built around login activity. Configuration comes',
    'from environment variables, or a .env file in the working directory (see the README).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}this overview, or a command's help: gatehouse help <command>`,
    '',
    'Every command takes -h or --help.',
    '',
    exitCodes('done'),
    '',
  ].join('\n');
}
