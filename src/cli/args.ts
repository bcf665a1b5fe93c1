import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A mistake in how the command was called (unknown command or option, bad value): exit code 2,
 * so a script can tell "you called me wrong" from "I tried and failed" (1).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** The value's name in the help (`--workers N`); an option without one is a flag. */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What a command's `run` gets: a string for each option given with a value, `true` for each flag given. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]?: O[K] extends { readonly value: string } ? string : true };

/** Every command takes `--help` (or `-h`). */
export const HELP_OPTION: OptionSpec = { description: 'show this help' };

const LONG_OPTION = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s;

/**
 * Reads `--name value`, `--name=value`, flags and `-h` against a command's options, with
 * node:util's parseArgs in strict mode. Anything else (an unknown option, a missing value, a
 * stray argument, an option given twice) is a UsageError: guessing what a script meant is how
 * it ends up doing something it did not. Resolves with `help: true` when help was asked for.
 */
export function parseOptions<O extends OptionSpecs>(argv: readonly string[], specs: O): OptionValues<O> & { readonly help?: true } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.value === undefined ? 'boolean' : 'string' };
  const parse = () => parseArgs({ args: withDashValues(argv, specs), options, strict: true, allowPositionals: false });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    throw usageOf(error, specs);
  }
  // The one place the untyped values become the command's types: the specs above made them.
  return parsed.values as OptionValues<O> & { help?: true };
}

/**
 * The arguments in the one form parseArgs cannot misread, checked in order so the first mistake
 * is the one reported, in the words a person would use. An argument that is neither `-h` nor
 * `--name[=value]` (`-x`, `-hx`, `--`) is refused whole, as is an option the command does not
 * have, one given twice, and a value given to a flag. A value may start with "-" (signing key
 * ids are base64url: `--kid -csB…`), which parseArgs calls ambiguous, so every value is handed
 * over as `--name=value`; only another option in its place (`--…`, `-h`) means the value was
 * left out.
 */
function withDashValues(argv: readonly string[], specs: OptionSpecs): string[] {
  const args: string[] = [];
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') {
      given.add('help');
      args.push(arg);
      continue;
    }
    const match = LONG_OPTION.exec(arg);
    if (!match) throw new UsageError(arg.startsWith('-') ? `unknown option ${arg}` : `unexpected argument ${JSON.stringify(arg)}`);
    const [, name = '', inline] = match;
    const spec = name === 'help' ? HELP_OPTION : Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (given.has(name)) throw new UsageError(`--${name} is given more than once`);
    given.add(name);
    if (spec.value === undefined && inline !== undefined) throw new UsageError(`--${name} takes no value`);
    if (spec.value === undefined || inline !== undefined) {
      args.push(arg);
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--') || value === '-h') throw new UsageError(`--${name} needs a value: --${name} ${spec.value}`);
    args.push(`--${name}=${value}`);
  }
  return args;
}

/** parseArgs's errors, in the words of the rest of the CLI. */
function usageOf(error: unknown, specs: OptionSpecs): unknown {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  const name = /--([a-z][a-z0-9-]*)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option --${name}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('does not take an argument')) return new UsageError(`--${name} takes no value`);
    return new UsageError(`--${name} needs a value: --${name} ${specs[name]?.value ?? 'VALUE'}`);
  }
  return error;
}

/** A whole number from `min` to `max`, in the words config errors use. */
export function integerValue(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}
