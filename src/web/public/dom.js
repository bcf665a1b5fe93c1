// @ts-check
// Building and updating the page. Text from the API (labels, user agents) is attacker-chosen:
// it only ever becomes text nodes and attribute values, never markup.
import { describeTime, toMillis } from './time.js';

/** @import { Instant, TimeFormat } from './time.js' */
/**
 * What `h` sets on an element: `class`, `dataset`, `on…` listeners (`onclick`), and attributes
 * (`true` an empty one; `null`, `undefined` and `false` leave it out).
 * @typedef {{ class?: string, dataset?: Record<string, string>, [attribute: string]: unknown }} Props
 */
/**
 * What `h` appends: nodes and strings (text, never markup); `null`, `undefined` and `false` are
 * left out, and an array (one level) is appended item by item.
 * @typedef {Node | string | null | undefined | false} Child
 */
/**
 * Which of a view's messages speaks: the `role="alert"` one or the `role="status"` one.
 * @typedef {'error' | 'info'} MessageKind
 */

/**
 * `h('li', { class: 'x', dataset: { id } }, 'text', child)`; `onclick` and the like add listeners.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.className = /** @type {string} */ (value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/**
 * The element `selector` finds in `root`. The scripts look up only their page's own markup
 * (index.html), each element in a view that has it: none is missing, and a missing one would fail
 * on first use as it always did. A caller that needs a particular element says which with a cast.
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export const $ = (selector, root = document) => /** @type {HTMLElement} */ (root.querySelector(selector));

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });

/**
 * A `<time>` with the relative text and the instant for machines. The exact local time shows on
 * hover (`title`), and, since a tooltip is out of reach of keyboards and touch, the element takes
 * focus (a tap focuses it too): its name carries the exact time, and style.css shows it on focus.
 * @param {Instant} at
 * @param {TimeFormat} [format]
 * @returns {HTMLTimeElement}
 */
export function timeElement(at, format = 'ago') {
  const time = h('time', { tabindex: 0, dataset: { format } });
  setTime(time, at);
  return time;
}

/**
 * Points an existing `<time>` at another instant, in place (focus and hover stay on it).
 * @param {HTMLTimeElement} time
 * @param {Instant} at
 */
export function setTime(time, at) {
  const date = new Date(toMillis(at));
  const iso = date.toISOString();
  if (time.dateTime === iso && time.textContent) return;
  time.dateTime = iso;
  time.title = time.dataset.absolute = absolute.format(date);
  describe(time, Date.now());
}

/**
 * @param {HTMLTimeElement} time One that timeElement made: its `data-format` is a TimeFormat.
 * @param {number} now
 */
function describe(time, now) {
  const text = describeTime(/** @type {TimeFormat} */ (time.dataset.format), time.dateTime, now);
  if (time.textContent !== text) time.textContent = text;
  const label = `${text} (${time.dataset.absolute})`;
  if (time.getAttribute('aria-label') !== label) time.setAttribute('aria-label', label);
}

/**
 * Brings every relative time on the page up to date (called every 15 s).
 * @param {ParentNode} [root]
 */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const time of /** @type {NodeListOf<HTMLTimeElement>} */ (root.querySelectorAll('time[data-format]'))) describe(time, now);
}

/**
 * Says `text` through the page's polite live region, for what changes without the person's own
 * action (a device signed out elsewhere). The lists themselves are not live: a poll would be
 * read out every 5 s. Each line goes after a while, so the region never grows long.
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region || !text) return;
  const line = h('p', {}, text);
  region.append(line);
  setTimeout(() => line.remove(), 10_000);
}

export function clearAnnouncements() {
  document.getElementById('announcer')?.replaceChildren();
}

/** @type {Intl.DisplayNames | undefined} */
let regions;
/**
 * "DE" → "Germany"; null for an unknown place.
 * @param {string | null | undefined} code
 * @returns {string | null}
 */
export function countryName(code) {
  if (!code) return null;
  try {
    regions ??= new Intl.DisplayNames(['en'], { type: 'region' });
    return regions.of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * Shows a message in `container`'s `role="alert"` (kind `error`) or `role="status"` (`info`)
 * element. The other messages of the same view are cleared, so one message speaks at a time.
 * @param {HTMLElement} container A `.messages` of index.html, which has a message of each kind it is shown.
 * @param {MessageKind} kind
 * @param {string} text
 */
export function showMessage(container, kind, text) {
  const view = container.closest('dialog') ?? container.closest('[data-view]') ?? container;
  clearMessages(view);
  const element = /** @type {HTMLElement} */ (container.querySelector(kind === 'error' ? '.message.error' : '.message.info'));
  element.textContent = text;
  element.hidden = false;
}

/** @param {ParentNode} root */
export function clearMessages(root) {
  for (const element of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('.message'))) {
    element.hidden = true;
    element.textContent = '';
  }
}

/**
 * What to tell a person about a failed call: the server's detail, else its title.
 * @param {unknown} error What a call threw: an ApiError, or another Error.
 * @returns {string}
 */
export function errorText(error) {
  const thrown = /** @type {{ detail?: string, title?: string, message?: string } | null | undefined} */ (error);
  return thrown?.detail || thrown?.title || thrown?.message || 'Something went wrong. Please try again.';
}
