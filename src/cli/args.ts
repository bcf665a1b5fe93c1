/**
 * A mistake in how the command was called (unknown command or option, bad value): exit code 2,
 * so a script can tell "you called me wrong" from "I tried and failed" (1).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  /** The value's name in the help (`--workers N`); an option without one is a flag. */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Every command takes `--help` (or `-h`). */
export const HELP_OPTION: OptionSpec = { description: 'show this help' };

/**
 * Reads `--name value`, `--name=value`, flags and `-h` against a command's options. Anything
 * else (an unknown option, a missing value, a stray argument, an option given twice) is a
 * UsageError: guessing what a script meant is how it ends up doing something it did not.
 */
export function parseArgs(argv: string[], specs: OptionSpecs): Map<string, string | true> {
  const parsed = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') {
      parsed.set('help', true);
      continue;
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new UsageError(arg.startsWith('-') ? `unknown option ${arg}` : `unexpected argument ${JSON.stringify(arg)}`);
    const [, name = '', inline] = match;
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (parsed.has(name)) throw new UsageError(`--${name} is given more than once`);
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      parsed.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    // A value may start with "-" (signing key ids are base64url: `--kid -csB…`); only another
    // option in its place means the value was left out.
    if (value === undefined || (inline === undefined && (value.startsWith('--') || value === '-h'))) throw new UsageError(`--${name} needs a value: --${name} ${spec.value}`);
    parsed.set(name, value);
  }
  return parsed;
}

/** A whole number from `min` to `max`, in the words config errors use. */
export function integerValue(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}
