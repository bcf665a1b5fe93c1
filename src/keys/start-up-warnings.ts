import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { filesOpenToOthers } from '../storage/data-file-modes.js';
import type { KeySecret } from './local-secret.js';

/** The start-up lines an operator must not miss: where the key secret is, and data files others can read. */
export function sayWhereKeysAreSafe(log: FastifyBaseLogger, config: Readonly<Config>, secret: KeySecret, sealedNow: number): void {
  if (sealedNow > 0) {
    // Sealed from now on, but whoever read the database before (a backup, another local user of
    // an older install's 0644 file) holds them: only a new key makes that copy worthless.
    log.warn(
      { sealed: sealedNow },
      'signing keys stored in plain text by an older version were sealed now; a copy of the database made before still holds them: rotate (gatehouse keys rotate), then retire them (gatehouse keys retire --expired)',
    );
  }
  if (secret.file?.created) {
    log.warn(
      { path: secret.file.path },
      'signing keys are sealed with a new local secret in this file: back it up with the database (the keys cannot be opened without it), or set GATEHOUSE_SECRET instead',
    );
  } else if (secret.file) {
    log.info({ path: secret.file.path }, 'signing keys are sealed with the local secret in this file (GATEHOUSE_SECRET is not set)');
  }
  for (const { path, mode } of filesOpenToOthers(config.database, secret.file?.path)) {
    log.warn({ path, mode }, `${path} is open to other users of this machine (mode ${mode}): make it private (chmod go-rwx ${path})`);
  }
}
