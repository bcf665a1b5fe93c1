import { HELP_OPTION, type OptionSpecs, type OptionValues } from './args.js';
import type { CliIo } from './io.js';

/** One `gatehouse <name>` command: its help, its options, and what it does. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line for the list in `gatehouse --help`. */
  summary: string;
  /** The synopsis after "Usage:", e.g. `gatehouse serve [--workers N]`. */
  usage: string;
  /** What it does, wrapped at 80 columns, for `gatehouse <name> --help`. */
  description: string;
  /** What exit code 0 means for this command. */
  success: string;
  /** Its options, `--help` aside (every command takes that). */
  options: O;
  /**
   * Runs it with the parsed options, reading and writing only through `io`; resolves with the
   * exit code. Throws UsageError for a bad value, and anything else for a failure (exit code 1).
   */
  run(options: OptionValues<O>, io: CliIo): Promise<number>;
}

/** A command whose `run` sees its own options typed: a string per option with a value, `true` per flag. */
export function command<const O extends OptionSpecs>(definition: Command<O>): Command<O> {
  return definition;
}

/**
 * A command made of commands, like `gatehouse user create`: the group only lists them, and each
 * subcommand is a Command of its own (its `usage` spells the whole path).
 */
export interface CommandGroup {
  name: string;
  /** One line for the list in `gatehouse --help`. */
  summary: string;
  /** What the group is for, for `gatehouse <name> --help`. */
  description: string;
  // biome-ignore lint/suspicious/noExplicitAny: each command has its own options, and runCli passes each only what it parsed against them.
  subcommands: readonly Command<any>[];
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export type CommandEntry = Command<any> | CommandGroup;

export function isGroup(entry: CommandEntry): entry is CommandGroup {
  return 'subcommands' in entry;
}

export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.subcommands.map((c) => c.name.length)) + 2;
  return [
    `Usage: gatehouse ${group.name} <command> [options]`,
    '',
    group.description,
    '',
    'Commands:',
    ...group.subcommands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    `Every command takes -h or --help: gatehouse ${group.name} <command> --help.`,
    '',
    exitCodes('done'),
    '',
  ].join('\n');
}

/** The exit codes scripts can rely on, the same for every command. */
export function exitCodes(success: string): string {
  return [
    'Exit codes:',
    `  0  ${success}`,
    '  1  failed: configuration error, cannot start, database error',
    '  2  wrong usage: unknown command or option, bad value',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const options = { ...command.options, help: HELP_OPTION };
  const labels = Object.entries(options).map(([name, spec]) => (name === 'help' ? '-h, --help' : `--${name}${spec.value ? ` ${spec.value}` : ''}`));
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  const lines = Object.values(options).map(
    (spec, i) => `  ${(labels[i] as string).padEnd(width)}${spec.description.split('\n').join(`\n  ${' '.repeat(width)}`)}`,
  );
  return [`Usage: ${command.usage}`, '', command.description, '', 'Options:', ...lines, '', exitCodes(command.success), ''].join('\n');
}
