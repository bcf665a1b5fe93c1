// @ts-check
// "Recent activity": the account's login history, newest first, a page at a time.
import { call, SessionEnded } from './api.js';
import { $, announce, countryName, errorText, h, showMessage, timeElement } from './dom.js';

/** @import { ActivityEvent, ActivityPage } from './api.js' */

const PAGE = 20;
// The elements of the mounted view: mountActivity sets them before anything here runs.
/** @type {HTMLElement} */
let list;
/** @type {HTMLElement} */
let messages;
/** @type {HTMLElement} */
let moreButton;
/** @type {string | null} */
let nextCursor = null;
/** Counts mounted views: an answer that arrives for an earlier view (or account) is dropped. */
let generation = 0;

/**
 * A short phrase per event type (README, "Login history"); an unknown type still reads.
 * @type {Readonly<Record<string, string>>}
 */
const PHRASES = {
  account_created: 'Account created',
  signed_in: 'Signed in',
  sign_in_failed: 'Sign-in failed',
  account_locked: 'Sign-in paused after repeated failures',
  reauthenticated: 'Password confirmed',
  reauth_failed: 'Password confirmation failed',
  password_changed: 'Password changed',
  password_change_failed: 'Password change failed',
  signed_out: 'Signed out',
  session_revoked: 'Signed out a device',
  other_sessions_revoked: 'Signed out all other devices',
  all_sessions_revoked: 'Signed out everywhere',
  sessions_evicted: 'Signed out the least recently used device',
  refresh_token_reused: 'Stolen sign-in detected: device signed out',
  session_expired: 'Session expired',
  sign_in_reported: 'Sign-in reported as not you',
  signed_out_by_admin: 'Signed out by an administrator',
  account_disabled: 'Account disabled by an administrator',
  account_enabled: 'Account enabled again by an administrator',
  role_changed: 'Role changed by an administrator',
  email_verified: 'Email address confirmed',
  email_change_requested: 'Email change asked for',
  email_changed: 'Email address changed',
  email_change_cancelled: 'Email change cancelled: signed out everywhere',
};

/**
 * @param {ActivityEvent} event
 * @returns {string}
 */
function phrase(event) {
  if (event.type === 'session_expired' && event.detail?.reason === 'idle') return 'Session expired after inactivity';
  return PHRASES[event.type] ?? event.type.replaceAll('_', ' ');
}

/**
 * What deserves a second look: a word on the entry (not colour alone), and a class for the look.
 * @param {ActivityEvent} event
 * @returns {string | null}
 */
function warning(event) {
  if (event.type === 'signed_in' && event.detail?.new_device === true) return 'New device';
  if (event.type === 'sign_in_failed' || event.type === 'reauth_failed' || event.type === 'password_change_failed') return 'Failed';
  if (event.type === 'account_locked') return 'Locked';
  if (event.type === 'refresh_token_reused') return 'Warning';
  return null;
}

/**
 * @param {ActivityEvent} event
 * @returns {HTMLLIElement}
 */
function eventItem(event) {
  const flag = warning(event);
  const parts = [phrase(event), event.device?.label, countryName(event.location)].filter(Boolean);
  return h(
    'li',
    { class: flag ? 'event flagged' : 'event', dataset: { eventType: event.type, eventId: event.id } },
    flag ? [h('span', { class: 'badge badge-warning' }, flag), ' '] : null,
    h('span', { class: 'event-text' }, `${parts.join(' · ')} · `, timeElement(event.at, 'ago')),
    event.ip ? h('span', { class: 'event-ip' }, event.current ? `${event.ip} · this device` : event.ip) : null,
  );
}

/**
 * A page of events; a page that arrives after its view was replaced throws SessionEnded.
 * @param {string | null} cursor
 * @returns {Promise<ActivityPage>}
 */
async function fetchPage(cursor) {
  const mounted = generation;
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) query.set('cursor', cursor);
  const page = await call('GET', `/v1/me/activity?${query}`);
  if (mounted !== generation) throw new SessionEnded();
  return page;
}

/** @param {string | null | undefined} cursor */
function setCursor(cursor) {
  nextCursor = cursor ?? null;
  moreButton.hidden = nextCursor === null;
}

/**
 * Wires the list of a freshly built account view.
 * @param {HTMLElement} view
 */
export function mountActivity(view) {
  list = $('#activity', view);
  messages = $('.messages', /** @type {HTMLElement} its section */ (list.parentElement));
  moreButton = $('#show-more', view);
  moreButton.addEventListener('click', showMore);
  nextCursor = null;
  generation += 1;
}

/** The first page, replacing whatever was shown. */
export async function loadActivity() {
  const page = await fetchPage(null);
  list.replaceChildren(...page.events.map(eventItem));
  setCursor(page.next_cursor);
}

/**
 * New events on top, keeping pages already opened with "Show more"; if more happened than one
 * page holds, the list starts again from the first page. `tell`: say politely how many arrived
 * (for what happened elsewhere, not for what the person just did).
 * @param {{ tell?: boolean }} [options]
 */
export async function refreshActivity({ tell = false } = {}) {
  try {
    const page = await fetchPage(null);
    // The list holds only the `<li>`s of eventItem.
    const known = new Set([.../** @type {HTMLCollectionOf<HTMLLIElement>} */ (list.children)].map((item) => item.dataset.eventId));
    /** @type {ActivityEvent[]} */
    const fresh = [];
    for (const event of page.events) {
      if (known.has(event.id)) break;
      fresh.push(event);
    }
    if (fresh.length === page.events.length && list.children.length > 0) {
      list.replaceChildren(...page.events.map(eventItem));
      setCursor(page.next_cursor);
    } else {
      list.prepend(...fresh.map(eventItem));
      if (list.children.length === fresh.length) setCursor(page.next_cursor);
    }
    if (tell && fresh.length > 0) announce(`${fresh.length} new ${fresh.length === 1 ? 'entry' : 'entries'} in Recent activity.`);
  } catch (error) {
    if (!(error instanceof SessionEnded)) showMessage(messages, 'error', errorText(error));
  }
}

async function showMore() {
  if (nextCursor === null || moreButton.getAttribute('aria-busy') === 'true') return;
  moreButton.setAttribute('aria-busy', 'true');
  try {
    const page = await fetchPage(nextCursor);
    const first = page.events.length ? eventItem(/** @type {ActivityEvent} there is one */ (page.events[0])) : null;
    list.append(...(first ? [first, ...page.events.slice(1).map(eventItem)] : []));
    setCursor(page.next_cursor);
    // The button goes with the last page: focus moves to the first new entry instead.
    if (moreButton.hidden && first) {
      first.tabIndex = -1;
      first.focus();
    }
  } catch (error) {
    if (!(error instanceof SessionEnded)) showMessage(messages, 'error', errorText(error));
  } finally {
    moreButton.removeAttribute('aria-busy');
  }
}
