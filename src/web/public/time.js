// @ts-check
// Relative times ("3 days ago"), pure so they can be tested without a browser. time.d.ts says the
// same types for the TypeScript that imports this (the tests, and dom.js's checking): keep the two in step.

/**
 * How a `<time>` on the page reads: see describeTime.
 * @typedef {'ago' | 'signed-in' | 'active' | 'current'} TimeFormat
 */
/**
 * An instant: an ISO 8601 string (as the API sends), a Date, or milliseconds since the epoch.
 * @typedef {string | number | Date} Instant
 */

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Largest unit first; months and years are approximations, which is all "ago" promises.
 * @type {[Intl.RelativeTimeFormatUnit, number][]}
 */
const UNITS = [
  ['year', 365 * DAY],
  ['month', 30 * DAY],
  ['day', DAY],
  ['hour', HOUR],
  ['minute', MINUTE],
];

/** Within this long a device counts as "Active now" (last activity is written in batches). */
export const ACTIVE_NOW_SECONDS = 2 * MINUTE;

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/**
 * Milliseconds since the epoch, from an ISO string, a Date or a number.
 * @param {Instant} at
 * @returns {number}
 */
export function toMillis(at) {
  return typeof at === 'number' ? at : new Date(at).getTime();
}

/**
 * "just now", "5 minutes ago", "3 days ago". A time slightly in the future (the server's clock
 * ahead of this one) reads as "just now", never "in 2 minutes".
 * @param {Instant} at
 * @param {number} [now] Milliseconds since the epoch.
 * @returns {string}
 */
export function timeAgo(at, now = Date.now()) {
  const seconds = Math.max(0, (now - toMillis(at)) / 1000);
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return relative.format(-Math.floor(seconds / size), unit);
  }
  return 'just now';
}

/**
 * The text of a `<time>` on the page, by its format: `ago` ("2 hours ago"), `signed-in`
 * ("Signed in 3 days ago"), `active` ("Active now", "Active 5 minutes ago"), `current` (the
 * device showing the page: "Active now", whatever its last recorded activity).
 * @param {TimeFormat} format
 * @param {Instant} at
 * @param {number} [now] Milliseconds since the epoch.
 * @returns {string}
 */
export function describeTime(format, at, now = Date.now()) {
  if (format === 'current') return 'Active now';
  if (format === 'signed-in') return `Signed in ${timeAgo(at, now)}`;
  if (format === 'active') return now - toMillis(at) < ACTIVE_NOW_SECONDS * 1000 ? 'Active now' : `Active ${timeAgo(at, now)}`;
  return timeAgo(at, now);
}
