import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as signInLimits from './0002-sign-in-limits.js';
import * as activity from './0003-activity.js';
import * as signingKeyRotation from './0004-signing-key-rotation.js';
import * as imports from './0005-imports.js';
import * as userEmailSearch from './0006-user-email-search.js';

/**
 * Every migration, in order. Names sort lexically (Kysely applies them in that order), so they
 * are numbered with four digits. A migration, once released, is never edited: add a new one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sign-in-limits': signInLimits,
  '0003-activity': activity,
  '0004-signing-key-rotation': signingKeyRotation,
  '0005-imports': imports,
  '0006-user-email-search': userEmailSearch,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
