import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { wordList, type WordList } from '../core/password-blocklist.js';

/**
 * The 10,000 most common passwords, one a line, unchanged from their source (its origin and
 * licence are in common-passwords.LICENSE beside it). A data file rather than a module: the
 * build copies it into dist/ (scripts/copy-data-files.js), and the pure core never reads files,
 * so it gets the list from here, through the composition root.
 */
export const COMMON_PASSWORDS_FILE = new URL('./common-passwords.txt', import.meta.url);

let loaded: WordList | undefined;

/** The words of the file, in its order, without its empty lines. */
export function readCommonPasswords(): string[] {
  return readFileSync(COMMON_PASSWORDS_FILE, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '');
}

/**
 * The list ready for the password policy, read and prepared at the first call (a few
 * milliseconds) and shared by every node of the process after. A missing file throws: a server
 * that silently accepted "123456" would be worse than one that does not start.
 */
export function commonPasswords(): WordList {
  if (!loaded) {
    try {
      loaded = wordList(readCommonPasswords());
    } catch (error) {
      throw new Error(`The list of common passwords cannot be read (${fileURLToPath(COMMON_PASSWORDS_FILE)}); npm run build copies it into dist/.`, {
        cause: error,
      });
    }
  }
  return loaded;
}
