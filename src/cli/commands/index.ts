import type { CommandEntry } from '../command.js';
import { doctor } from './doctor.js';
import { importCommand } from './import.js';
import { keys } from './keys.js';
import { mail } from './mail.js';
import { migrate } from './migrate.js';
import { purge } from './purge.js';
import { serve } from './serve.js';
import { sessions } from './sessions.js';
import { user } from './user.js';

/** Every `gatehouse` command, in the order `gatehouse --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [serve, migrate, user, sessions, keys, mail, purge, importCommand, doctor];
