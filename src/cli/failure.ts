import { ConfigError } from '../config.js';

/**
 * The one stderr line for a command that failed at run time (exit code 1): an operator's
 * mistake or a refusal from the database reads better than a stack (design §7), and a script
 * can show it as it is. Configuration errors say so, naming the variable.
 */
export function failureLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `gatehouse: ${error instanceof ConfigError ? 'configuration error: ' : ''}${message.replace(/\s*\n\s*/g, ' ')}`;
}

/** A failure while starting the server says so; a configuration error keeps its own words. */
export function cannotStart(error: unknown): unknown {
  if (error instanceof ConfigError) return error;
  return new Error(`cannot start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
