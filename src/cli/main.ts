import { HELP_OPTION, parseArgs, UsageError } from './args.js';
import { commandHelp, exitCodes, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { failureLine } from './failure.js';

/**
 * Runs `gatehouse <command> [options]` and resolves with the exit code: 0 done, 1 failed
 * (one line on stderr), 2 called wrong (one line on stderr naming the help to read). Help goes
 * to stdout with 0, so `gatehouse serve --help | less` works.
 */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const asksHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';
  if (asksHelp(name) || (name === 'help' && (rest.length === 0 || asksHelp(rest[0])))) return print(overview());
  if (name === 'help') return rest.length === 1 ? help(rest[0] as string) : usageError(new UsageError('help takes one command name'));
  if (name === undefined) return usageError(new UsageError('no command given'));
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return usageError(new UsageError(`unknown command ${JSON.stringify(name)}`));

  let options: Map<string, string | true>;
  try {
    options = parseArgs(rest, { ...command.options, help: HELP_OPTION });
  } catch (error) {
    return usageError(error, command);
  }
  if (options.has('help')) return print(commandHelp(command));
  try {
    return await command.run(options);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error, command);
    console.error(failureLine(error));
    return 1;
  }
}

function help(name: string): number {
  const command = COMMANDS.find((c) => c.name === name);
  return command ? print(commandHelp(command)) : usageError(new UsageError(`unknown command ${JSON.stringify(name)}`));
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

function usageError(error: unknown, command?: Command): number {
  if (!(error instanceof UsageError)) throw error;
  console.error(`gatehouse: ${error.message} (see: gatehouse ${command ? `${command.name} ` : ''}--help)`);
  return 2;
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
