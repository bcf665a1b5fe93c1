// @ts-check
// "Your devices": every active session of the account, kept current by polling.
import { ApiError, call, SessionEnded } from './api.js';
import { $, announce, countryName, errorText, h, setTime, showMessage, timeElement } from './dom.js';
import { confirmPassword } from './reauth.js';

/** @import { Session } from './api.js' */
/**
 * A device the list shows: its `<li>`, what it was built from (`signature`), and its name.
 * @typedef {{ item: HTMLLIElement, signature: string, label: string }} Shown
 */
/**
 * `remote`: the sessions changed elsewhere, not by this page's own action.
 * @typedef {(change: { remote: boolean }) => void} ChangeListener
 */

const POLL_MS = 5000;
// The elements of the mounted view: mountDevices sets them before anything here runs.
/** @type {HTMLElement} */
let list;
/** @type {HTMLElement} */
let messages;
/** @type {HTMLElement} */
let othersButton;

/**
 * session id → { item, signature, label } of what the list shows.
 * @type {Map<string, Shown>}
 */
const shown = new Map();
/** @type {ChangeListener} */
let onChange = () => {};
/** @type {number | null} */
let pollTimer = null;
/**
 * The poll on its way, if any: a second one is not sent beside it.
 * @type {Promise<void> | null}
 */
let polling = null;
let pollFailed = false;
/** Counts mounted views: an answer that arrives for an earlier view (or account) is dropped. */
let generation = 0;
/**
 * Counts changes made from this page (a device signed out here, a refresh asked for after an
 * action). A list requested before the latest of them may predate it (a device signed out here
 * would come back): its answer is dropped and the list fetched again.
 */
let localChanges = 0;
/** The next list shown follows this page's own action: what left it is not news to announce. */
let ownChange = false;

/**
 * `changed({ remote })` runs when the set of sessions changes; `remote`: not by this page's own action.
 * @param {ChangeListener} changed
 */
export function onSessionsChanged(changed) {
  onChange = changed;
}

/**
 * Wires the list of a freshly built account view (app.js builds one per sign-in).
 * @param {HTMLElement} view
 */
export function mountDevices(view) {
  list = $('#devices', view);
  messages = $('.messages', /** @type {HTMLElement} its section */ (list.parentElement));
  othersButton = $('#sign-out-others', view);
  othersButton.addEventListener('click', signOutOthers);
  shown.clear();
  generation += 1;
  pollFailed = false;
  ownChange = false;
}

/**
 * The first list of a freshly mounted view; resolves to whether it changed what was shown.
 * @returns {Promise<boolean>}
 */
export async function loadDevices() {
  const mounted = generation;
  const { sessions } = await call('GET', '/v1/me/sessions');
  return mounted === generation && render(sessions).changed;
}

/**
 * The control in the list that has focus, as a session id and its place in the item.
 * @returns {{ id: string, index: number, position: number } | null}
 */
function focusedControl() {
  const active = document.activeElement;
  const item = active instanceof HTMLElement && list.contains(active) ? /** @type {HTMLLIElement | null} */ (active.closest('li[data-session-id]')) : null;
  if (!item) return null;
  // `item` is there only when `active` is an HTMLElement, and has a data-session-id by its selector.
  return {
    id: /** @type {string} */ (item.dataset.sessionId),
    index: [...item.querySelectorAll('button, [tabindex]')].indexOf(/** @type {HTMLElement} */ (active)),
    position: [...list.children].indexOf(item),
  };
}

/**
 * Updates the list in place, so focus, hover titles and the reader's position survive a poll.
 * @param {Session[]} sessions
 * @returns {{ changed: boolean, removed: string[], added: string[] }} `removed`, `added`: the labels of the devices that left and came.
 */
function render(sessions) {
  const focused = focusedControl();
  const ordered = [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
  const ids = new Set(ordered.map((s) => s.id));
  const changed = ids.size !== shown.size || ordered.some((s) => !shown.has(s.id));
  /** @type {string[]} */
  const removed = [];
  for (const [id, entry] of shown) {
    if (!ids.has(id)) {
      entry.item.remove();
      shown.delete(id);
      removed.push(entry.label);
    }
  }
  /** @type {string[]} */
  const added = [];
  ordered.forEach((session, index) => {
    // Times are updated in place; only what changes the item's make-up rebuilds it.
    const signature = JSON.stringify([session.current, session.device, session.user_agent, session.location, session.ip]);
    let entry = shown.get(session.id);
    if (!entry || entry.signature !== signature) {
      const item = deviceItem(session);
      if (entry) entry.item.replaceWith(item);
      else if (shown.size > 0 || list.children.length > 0) added.push(labelOf(session));
      entry = { item, signature, label: labelOf(session) };
      shown.set(session.id, entry);
    } else {
      const [signedInAt, activeAt] = entry.item.querySelectorAll('.device-times time');
      // deviceItem made both.
      setTime(/** @type {HTMLTimeElement} */ (signedInAt), session.created_at);
      setTime(/** @type {HTMLTimeElement} */ (activeAt), session.last_active_at);
    }
    if (list.children[index] !== entry.item) list.insertBefore(entry.item, list.children[index] ?? null);
  });
  // Moving or rebuilding an element drops its focus: put it back on the same control, now that
  // everything is in place. A device that left takes the focus to the one now in its place.
  if (focused && !list.contains(document.activeElement)) {
    const item = shown.get(focused.id)?.item;
    // Buttons and `<time tabindex>`: HTML elements all.
    const controls = item ? [.../** @type {NodeListOf<HTMLElement>} */ (item.querySelectorAll('button, [tabindex]'))] : [];
    const target =
      controls[focused.index] ??
      controls[0] ??
      list.children[focused.position]?.querySelector('button') ??
      list.lastElementChild?.querySelector('button') ??
      othersButton;
    target.focus({ preventScroll: true });
  }
  return { changed, removed, added };
}

/**
 * @param {Session} session
 * @returns {string}
 */
const labelOf = (session) => session.device?.label || 'Unknown device';

/**
 * @param {Session} session
 * @returns {HTMLLIElement}
 */
function deviceItem(session) {
  const label = labelOf(session);
  const type = session.device?.type === 'mobile' || session.device?.type === 'tablet' ? 'mobile' : session.device?.type === 'desktop' ? 'desktop' : 'other';
  // Not a browser (curl, an app): its own user agent says more than "unknown".
  const details = [session.device?.browser, session.device?.os].filter(Boolean).join(' · ') || session.user_agent?.slice(0, 80) || 'Unknown browser';
  const place = [countryName(session.location) ?? 'Unknown location', session.ip].filter(Boolean).join(' · ');
  return h(
    'li',
    { class: session.current ? 'device current' : 'device', dataset: { sessionId: session.id } },
    h('img', { class: 'device-icon', src: `/assets/${type}.svg`, alt: '', width: 32, height: 32 }),
    h(
      'div',
      { class: 'device-body' },
      h('p', { class: 'device-label' }, h('strong', {}, label), session.current ? h('span', { class: 'badge badge-current' }, 'This device') : null),
      h('p', { class: 'device-meta' }, details),
      h('p', { class: 'device-meta' }, place),
      h(
        'p',
        { class: 'device-times' },
        timeElement(session.created_at, 'signed-in'),
        ' · ',
        timeElement(session.last_active_at, session.current ? 'current' : 'active'),
      ),
    ),
    session.current
      ? null
      : h(
          'button',
          { type: 'button', class: 'secondary device-sign-out', 'aria-label': `Sign out ${label}`, onclick: () => signOutDevice(session.id, label) },
          'Sign out',
        ),
  );
}

/**
 * @param {string} id
 * @param {string} label
 */
async function signOutDevice(id, label) {
  try {
    await call('DELETE', `/v1/me/sessions/${encodeURIComponent(id)}`);
    showMessage(messages, 'info', `Signed out ${label}.`);
  } catch (error) {
    if (error instanceof SessionEnded) return;
    // Already gone (signed out elsewhere, or expired): what was asked for is so.
    if (!(error instanceof ApiError && error.status === 404)) return showMessage(messages, 'error', errorText(error));
  }
  removeShown(id);
  onChange({ remote: false });
}

/**
 * Takes one device off the list, leaving focus on its neighbour rather than on nothing.
 * @param {string} id
 */
function removeShown(id) {
  localChanges += 1;
  const entry = shown.get(id);
  if (!entry) return;
  const hadFocus = entry.item.contains(document.activeElement);
  const next = entry.item.nextElementSibling ?? entry.item.previousElementSibling;
  entry.item.remove();
  shown.delete(id);
  if (hadFocus) (next?.querySelector('button') ?? othersButton).focus();
}

async function signOutOthers() {
  try {
    let result;
    try {
      result = await call('DELETE', '/v1/me/sessions?scope=others');
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'reauth_required')) throw error;
      if (!(await confirmPassword())) return;
      result = await call('DELETE', '/v1/me/sessions?scope=others');
    }
    const n = result?.revoked ?? 0;
    showMessage(messages, 'info', n === 0 ? 'No other device was signed in.' : `Signed out ${n} other ${n === 1 ? 'device' : 'devices'}.`);
    // Every other device is gone: the list says so at once, and the next answer confirms it.
    for (const [id, { item }] of shown) if (!item.classList.contains('current')) removeShown(id);
    await pollNow({ after: 'own' });
  } catch (error) {
    if (!(error instanceof SessionEnded)) showMessage(messages, 'error', errorText(error));
  }
}

/**
 * Fetches the list now, and resolves once it shows an answer requested after this call: a poll
 * already on its way may have been answered before the action that asked for this one, so its
 * answer is dropped and the list fetched again. `changed()` runs if the set of sessions differs
 * from what was shown; `after: 'own'` says the change was this page's own doing.
 * @param {{ after?: 'own' | null }} [options]
 * @returns {Promise<void>}
 */
export function pollNow({ after = null } = {}) {
  localChanges += 1;
  if (after === 'own') ownChange = true;
  return poll();
}

/**
 * One poll at a time; a second request joins the one on its way.
 * @returns {Promise<void>}
 */
function poll() {
  polling ??= fetchList().finally(() => {
    polling = null;
  });
  return polling;
}

async function fetchList() {
  const mounted = generation;
  try {
    for (;;) {
      const asked = localChanges;
      const { sessions } = await call('GET', '/v1/me/sessions');
      if (mounted !== generation) return;
      if (asked !== localChanges) continue; // sent before a change made here: may not show it
      const { changed, removed, added } = render(sessions);
      const own = ownChange;
      ownChange = false;
      if (!own) {
        // What happened elsewhere, said politely (the list itself is not a live region).
        for (const label of removed) announce(`${label} was signed out.`);
        for (const label of added) announce(`${label} signed in.`);
      }
      if (changed) onChange({ remote: !own });
      // A failed poll's message goes once the list is current again.
      if (pollFailed) /** @type {HTMLElement} */ (messages.querySelector('.message.error')).hidden = true;
      pollFailed = false;
      return;
    }
  } catch (error) {
    if (error instanceof SessionEnded || mounted !== generation) return;
    pollFailed = true;
    showMessage(messages, 'error', `This list could not be updated: ${errorText(error)}`);
  }
}

function schedule() {
  clearTimeout(pollTimer ?? undefined);
  pollTimer = document.visibilityState === 'visible' ? setTimeout(tick, POLL_MS) : null;
}

async function tick() {
  await poll();
  if (pollTimer !== null) schedule();
}

/** Polls every 5 s while the page is visible; a page coming back into view polls at once. */
export function startPolling() {
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
}

export function stopPolling() {
  document.removeEventListener('visibilitychange', onVisibility);
  clearTimeout(pollTimer ?? undefined);
  pollTimer = null;
}

function onVisibility() {
  if (document.visibilityState === 'visible') {
    poll();
    schedule();
  } else {
    clearTimeout(pollTimer ?? undefined);
  }
}
