/**
 * Which new passwords are refused as too easy to guess, whatever their length (NIST SP 800-63B
 * 5.1.1.2: passwords from breach corpuses, and context-specific words such as the name of the
 * service and the user's own identifier).
 *
 * One matching rule for every blocked word, so a person can predict it: a password is blocked
 * when it is the word, or when both are the same once digits, punctuation, symbols and spaces
 * at their start and end are dropped, what is left has at least 3 characters, and what was
 * dropped is at most twice as long as what is left (6 characters for the shortest words).
 * Both sides are compared in NFKC form and lower case.
 * - Lower case: guessing tools try "Password" and "PASSWORD" right after "password"; a
 *   case-sensitive list would let through exactly the variants they try first.
 * - The ends only: "gatehouse123!" and "Sunshine2024" are a word plus what people add for
 *   composition rules, and cracking rules add those first. A word inside a passphrase ("ann
 *   likes long walks") is no weakness, so nothing is searched for in the middle.
 * - 3 characters, and padding in proportion to the word: less than that is no word
 *   ("12345678x" is digits); "ann12345" and "2024-sunshine-2024" are a word with what rules
 *   add, while "abc 8391 5527 0416" or "Ann#48213957!" owe their strength to the padding.
 */

/** The product's own name: among the first words anyone tries at its sign-in form. */
export const SERVICE_NAMES: readonly string[] = ['gatehouse'];

export type BlockRule = 'email' | 'service_name' | 'common';

export interface Blocked {
  rule: BlockRule;
  /** False when it matched only once digits or symbols at the ends were dropped. */
  exact: boolean;
}

const PADDING = /^[\p{N}\p{P}\p{S}\p{Z}\s]+|[\p{N}\p{P}\p{S}\p{Z}\s]+$/gu;
const MIN_CORE_LENGTH = 3;

/** A list of words ready to match against: built once, then each check is two set lookups. */
export interface WordList {
  readonly whole: ReadonlySet<string>;
  readonly cores: ReadonlySet<string>;
}

/** A password or word as it is compared: NFKC, lower case. */
export const fold = (text: string) => text.normalize('NFKC').toLowerCase();

/** What is left of `folded` once its padding is dropped, if that is long enough to judge alone (the rule above). */
export function coreOf(folded: string): string | undefined {
  const core = folded.replace(PADDING, '');
  const coreLength = Array.from(core).length;
  const paddingLength = Array.from(folded).length - coreLength;
  return coreLength >= MIN_CORE_LENGTH && paddingLength <= Math.max(2 * coreLength, 6) ? core : undefined;
}

/**
 * `list` prepared for `blockedPassword`. The list of common passwords is data the core does not
 * read itself (it reads no files): the server loads it (src/passwords/common-passwords.ts) and
 * passes it in, built once per process, a few milliseconds.
 */
export function wordList(list: Iterable<string>): WordList {
  const whole = new Set<string>();
  const cores = new Set<string>();
  for (const word of list) {
    const folded = fold(word);
    if (folded === '') continue;
    whole.add(folded);
    const core = coreOf(folded);
    if (core !== undefined) cores.add(core);
  }
  return { whole, cores };
}

const SERVICE = wordList(SERVICE_NAMES);

/**
 * The words of an email address a guesser would try: the address, its local part (as typed
 * and without its dots, dashes or plus signs), each piece of the local part, the domain and
 * each label of the domain but the top-level one. For ann.smith@example.com: the address,
 * "ann.smith", "annsmith", "ann", "smith", "example.com" and "example".
 */
export function emailWords(email: string): string[] {
  const address = fold(email.trim());
  const at = address.lastIndexOf('@');
  if (at < 0) return [address];
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const pieces = local.split(/[^\p{L}\p{N}]+/u);
  return [address, local, pieces.join(''), ...pieces, domain, ...domain.split('.').slice(0, -1)];
}

/**
 * Why `password` may not be used, or undefined when it may; `common` is the list of common
 * passwords (`wordList` of it). Never says which word matched.
 */
export function blockedPassword(password: string, common: WordList, context: { email?: string | undefined } = {}): Blocked | undefined {
  const folded = fold(password);
  const core = coreOf(folded);
  const match = (list: WordList, rule: BlockRule): Blocked | undefined => {
    if (list.whole.has(folded)) return { rule, exact: true };
    if (core !== undefined && list.cores.has(core)) return { rule, exact: false };
    return undefined;
  };
  return (context.email ? match(wordList(emailWords(context.email)), 'email') : undefined) ?? match(SERVICE, 'service_name') ?? match(common, 'common');
}
