import type { CommandGroup } from '../command.js';
import { keysList } from './keys-list.js';
import { keysRetire } from './keys-retire.js';
import { keysRotate } from './keys-rotate.js';

export const keys: CommandGroup = {
  name: 'keys',
  summary: 'list, rotate and retire the keys that sign access tokens',
  description: `The Ed25519 keys that sign access tokens, shared by every node through the database.
Rotating adds a key that nodes publish first and sign with later; retiring removes a key
once every token it signed has expired. Done in that order, nobody is signed out.`,
  subcommands: [keysList, keysRotate, keysRetire],
};
