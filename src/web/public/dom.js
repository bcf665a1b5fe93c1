// Building and updating the page. Text from the API (labels, user agents) is attacker-chosen:
// it only ever becomes text nodes and attribute values, never markup.
import { describeTime, toMillis } from './time.js';

/** `h('li', { class: 'x', dataset: { id } }, 'text', child)`; `onclick` and the like add listeners. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' });

/** A `<time>` with the relative text, the exact local time on hover, and the instant for machines. */
export function timeElement(at, format = 'ago') {
  const date = new Date(toMillis(at));
  return h('time', { datetime: date.toISOString(), title: absolute.format(date), dataset: { format } }, describeTime(format, date));
}

/** Brings every relative time on the page up to date (called each minute). */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const time of root.querySelectorAll('time[data-format]')) {
    const text = describeTime(time.dataset.format, time.dateTime, now);
    if (time.textContent !== text) time.textContent = text;
  }
}

let regions;
/** "DE" → "Germany"; null for an unknown place. */
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
 */
export function showMessage(container, kind, text) {
  const view = container.closest('dialog') ?? container.closest('[data-view]') ?? container;
  clearMessages(view);
  const element = container.querySelector(kind === 'error' ? '.message.error' : '.message.info');
  element.textContent = text;
  element.hidden = false;
}

export function clearMessages(root) {
  for (const element of root.querySelectorAll('.message')) {
    element.hidden = true;
    element.textContent = '';
  }
}

/** What to tell a person about a failed call: the server's detail, else its title. */
export function errorText(error) {
  return error?.detail || error?.title || error?.message || 'Something went wrong. Please try again.';
}
