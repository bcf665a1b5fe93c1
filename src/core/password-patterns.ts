import { coreOf, fold } from './password-blocklist.js';

/**
 * Passwords that are made of patterns rather than chosen: `123456789012`, `aaaaaaaaaaaa`,
 * `zaq1xsw2cde3`, `abcdefghijkl`. They are long enough and on no list, and among the first
 * things a guessing tool tries once its list is done.
 *
 * One rule, so a person can predict it: a password is a pattern when, ignoring case, it is made
 * entirely of pieces of at least 3 characters (one space or symbol may stand between two pieces),
 * each of them
 * - a run: letters a–z or digits going up or down by 1 or 2 (`abcdef`, `98765`, `2468`);
 * - a repeat of 1 to 4 characters (`aaaa`, `abab`, `abcabc`, `19901990`), shown at least twice
 *   (three times for a single character);
 * - a keyboard walk: keys next to each other on a QWERTY keyboard, along a row (`qwerty`,
 *   `!@#$`), down or up a column and on to the next (`1qaz2wsx`, `zaq1xsw2`), zigzagging between
 *   two rows (`1q2w3e`, `qawsed`), or along a line of the numeric keypad (`147`, `159`).
 * A password that merely contains a pattern is not one: "ann likes 123 walks" is fine.
 *
 * Everything is linear or quadratic in the password's length, without regular expressions
 * that could backtrack: a 128-character password costs well under a millisecond.
 */

export type PatternKind = 'sequence' | 'repeat' | 'keyboard_walk' | 'mixed_patterns';

export interface Patterned {
  rule: PatternKind;
  /** False when it is a pattern only once digits or symbols at its ends are dropped. */
  exact: boolean;
}

/**
 * Why `password` is made of patterns, or undefined when it is not. Like a blocked word, a
 * pattern with digits or symbols added at either end (`qwerty2024!`) is still one, by the
 * blocklist's own padding rule (password-blocklist.ts), so one rule of thumb covers both.
 */
export function patternedPassword(password: string): Patterned | undefined {
  const folded = fold(password);
  const whole = patternOf(folded);
  if (whole !== undefined) return { rule: whole, exact: true };
  const core = coreOf(folded);
  const inner = core === undefined || core === folded ? undefined : patternOf(core);
  return inner === undefined ? undefined : { rule: inner, exact: false };
}

/** Pieces shorter than this are no pattern: any text is made of pairs of characters. */
const MIN_PIECE = 3;
const MAX_UNIT = 4;
// Every other letter or digit (2468, acegi) is as easy to type and to guess as the next one.
const STEPS = [1, -1, 2, -2];

/** The rows of a US QWERTY keyboard, the digit row shifted by one key (`1` is above `q`). */
const ROWS = ['`1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./'];
const SHIFTED_ROWS = ['~!@#$%^&*()_+', 'qwertyuiop{}|', 'asdfghjkl:"', 'zxcvbnm<>?'];
const NUMPAD = ['789', '456', '123', '147', '258', '369', '159', '357'];

/** Key `column` of `row`, counting from the key above `q` (the digit row starts one key early). */
const keyAt = (row: number, column: number): string | undefined => ROWS[row]?.[row === 0 ? column + 1 : column];

function keyboardLines(): string[] {
  const columns = Array.from({ length: 10 }, (_, column) => [0, 1, 2, 3].map((row) => keyAt(row, column) ?? '').join(''));
  const zigzags: string[] = [];
  for (let row = 0; row < 3; row++) {
    let down = '';
    let up = '';
    for (let column = 0; keyAt(row, column) !== undefined && keyAt(row + 1, column) !== undefined; column++) {
      down += `${keyAt(row, column)}${keyAt(row + 1, column)}`;
      up += `${keyAt(row + 1, column)}${keyAt(row, column)}`;
    }
    zigzags.push(down, up);
  }
  // Column after column, downwards (1qaz2wsx) and upwards (zaq1xsw2).
  const downColumns = columns.join('');
  const upColumns = columns.map((c) => [...c].reverse().join('')).join('');
  const lines = [...ROWS, ...SHIFTED_ROWS, ...NUMPAD, downColumns, upColumns, ...zigzags];
  return [...lines, ...lines.map((line) => [...line].reverse().join(''))];
}

/** The lines as code points, and each key's places on them as pairs (line, index in it); no key appears twice in one line. */
const LINES = keyboardLines().map((line) => Array.from(line, (key) => key.codePointAt(0) as number));
const PLACES = new Map<number, number[]>();
for (const [l, line] of LINES.entries()) {
  for (const [at, key] of line.entries()) PLACES.set(key, [...(PLACES.get(key) ?? []), l, at]);
}

const KIND_BITS = { repeat: 1, sequence: 2, keyboard_walk: 4 } as const;

/**
 * How good a way of covering the text is, as one number (smaller is better): fewest pieces, then
 * fewest kinds of piece, then repeats before runs before walks, so the reason given is the
 * simplest true description (`123123` repeats `123`; `123456` is a run before it is a walk).
 */
const score = (pieces: number, kinds: number) => pieces * 64 + ((kinds & 1) + ((kinds >> 1) & 1) + ((kinds >> 2) & 1)) * 8 + kinds;
const NONE = 0x7fffffff;

const SEPARATOR = /^[\p{P}\p{S}\p{Z}\s]$/u;
const isSeparator = (c: number) => SEPARATOR.test(String.fromCodePoint(c));
const LETTER = 1;
const DIGIT = 2;
const runClass = (c: number) => (c >= 0x61 && c <= 0x7a ? LETTER : c >= 0x30 && c <= 0x39 ? DIGIT : 0);

/**
 * What kind of pattern `folded` (NFKC, lower case) is made of, or undefined when it is not made
 * entirely of patterns. Several kinds of piece: `mixed_patterns`.
 */
export function patternOf(folded: string): PatternKind | undefined {
  const chars = Array.from(folded, (c) => c.codePointAt(0) as number);
  const n = chars.length;
  if (n < MIN_PIECE) return undefined;
  const { repeats, sequences, walks } = longestPieces(chars);
  // One piece needs no search (and is the long case: `aaaa…` up to 128 characters).
  if (repeats.some((longest, u) => longest[0]! >= n && n >= 2 * (u + 1))) return 'repeat';
  if (sequences[0]! >= n) return 'sequence';
  if (walks[0]! >= n) return 'keyboard_walk';
  const kinds = coverKinds(chars, repeats, sequences, walks);
  if (kinds === undefined) return undefined;
  if (kinds === KIND_BITS.repeat) return 'repeat';
  if (kinds === KIND_BITS.sequence) return 'sequence';
  if (kinds === KIND_BITS.keyboard_walk) return 'keyboard_walk';
  return 'mixed_patterns';
}

/**
 * The kinds of piece in the best way to cover all of `chars`, or undefined when there is none:
 * cover[i] is the score of the best way to cover chars[0..i). Each piece from i ends anywhere
 * in an interval, so this is quadratic at worst; a repeat interval inside a shorter unit's is
 * skipped, as it can improve nothing.
 */
function coverKinds(chars: number[], repeats: Int32Array[], sequences: Int32Array, walks: Int32Array): number | undefined {
  const n = chars.length;
  const cover = new Int32Array(n + 1).fill(NONE);
  cover[0] = 0;
  const relax = (from: number, kind: number, lo: number, hi: number) => {
    const next = score((from >> 6) + 1, (from & 7) | kind);
    for (let j = lo; j <= hi; j++) if (next < cover[j]!) cover[j] = next;
  };
  const extend = (from: number, i: number) => {
    let covered = -1;
    for (let unit = 1; unit <= MAX_UNIT; unit++) {
      const hi = i + repeats[unit - 1]![i]!;
      if (hi <= covered) continue;
      relax(from, KIND_BITS.repeat, i + Math.max(MIN_PIECE, 2 * unit), hi);
      covered = hi;
    }
    relax(from, KIND_BITS.sequence, i + MIN_PIECE, i + sequences[i]!);
    relax(from, KIND_BITS.keyboard_walk, i + MIN_PIECE, i + walks[i]!);
  };
  for (let i = 0; i < n; i++) {
    const here = cover[i]!;
    if (here === NONE) continue;
    extend(here, i);
    if (here > 0 && i + 1 < n && isSeparator(chars[i]!)) extend(here, i + 1);
  }
  return cover[n] === NONE ? undefined : cover[n]! & 7;
}

/**
 * The longest piece of each kind that starts at each position (every shorter one of at least
 * 3 characters is a piece of that kind too; for repeats, of at least two units). Each table is
 * filled right to left, so it costs one pass.
 */
function longestPieces(chars: number[]): { repeats: Int32Array[]; sequences: Int32Array; walks: Int32Array } {
  const n = chars.length;
  const repeats = Array.from({ length: MAX_UNIT }, () => new Int32Array(n));
  for (let unit = 1; unit <= MAX_UNIT; unit++) {
    // How many characters from i on equal the one `unit` further, without a break.
    let same = 0;
    for (let i = n - 1; i >= 0; i--) {
      same = i + unit < n && chars[i] === chars[i + unit] ? same + 1 : 0;
      repeats[unit - 1]![i] = unit + same;
    }
  }
  const sequences = new Int32Array(n).fill(1);
  for (const step of STEPS) {
    let run = 1;
    for (let i = n - 1; i >= 0; i--) {
      const a = chars[i]!;
      const b = chars[i + 1];
      run = b !== undefined && runClass(a) !== 0 && runClass(a) === runClass(b) && b - a === step ? run + 1 : 1;
      if (run > sequences[i]!) sequences[i] = run;
    }
  }
  // walk[l]: the walk along line l from the character after this one. It is read only when
  // that character is on line l, and then it was written one step before.
  const walks = new Int32Array(n).fill(1);
  const walk = new Int32Array(LINES.length);
  for (let i = n - 1; i >= 0; i--) {
    const places = PLACES.get(chars[i]!) ?? [];
    for (let p = 0; p < places.length; p += 2) {
      const l = places[p]!;
      walk[l] = i + 1 < n && LINES[l]![places[p + 1]! + 1] === chars[i + 1] ? walk[l]! + 1 : 1;
      if (walk[l]! > walks[i]!) walks[i] = walk[l]!;
    }
  }
  return { repeats, sequences, walks };
}
