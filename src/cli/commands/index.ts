import type { CommandEntry } from '../command.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';

/** Every `gatehouse` command, in the order `gatehouse --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [serve, migrate];
