import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as signInLimits from './0002-sign-in-limits.js';
import * as activity from './0003-activity.js';

/**
 * Every migration, in order. Names sort lexically (Kysely applies them in that order), so they
 * are numbered with four digits. A migration, once released, is never edited: add a new one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sign-in-limits': signInLimits,
  '0003-activity': activity,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
