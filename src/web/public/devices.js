// "Your devices": every active session of the account, kept current by polling.
import { ApiError, call, SessionEnded } from './api.js';
import { $, countryName, errorText, h, showMessage, timeElement } from './dom.js';
import { confirmPassword } from './reauth.js';

const POLL_MS = 5000;
let list = null;
let messages = null;
let othersButton = null;

/** session id → { item, signature } of what the list shows. */
const shown = new Map();
let onChange = () => {};
let pollTimer = null;
let polling = false;
let pollFailed = false;
/** Counts mounted views: an answer that arrives for an earlier view (or account) is dropped. */
let generation = 0;

/** `changed()` runs when the set of sessions changes (a sign-in or sign-out anywhere). */
export function onSessionsChanged(changed) {
  onChange = changed;
}

/** Wires the list of a freshly built account view (app.js builds one per sign-in). */
export function mountDevices(view) {
  list = $('#devices', view);
  messages = $('.messages', list.parentElement);
  othersButton = $('#sign-out-others', view);
  othersButton.addEventListener('click', signOutOthers);
  shown.clear();
  generation += 1;
}

export async function loadDevices() {
  const mounted = generation;
  const { sessions } = await call('GET', '/v1/me/sessions');
  return mounted === generation && render(sessions);
}

/** Updates the list in place, so focus, hover titles and the reader's position survive a poll. */
function render(sessions) {
  const ordered = [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
  const ids = new Set(ordered.map((s) => s.id));
  const changed = ids.size !== shown.size || ordered.some((s) => !shown.has(s.id));
  for (const [id, { item }] of shown) {
    if (!ids.has(id)) {
      item.remove();
      shown.delete(id);
    }
  }
  ordered.forEach((session, index) => {
    const signature = JSON.stringify([session.current, session.device?.label, session.location, session.ip, session.created_at, session.last_active_at]);
    let entry = shown.get(session.id);
    if (!entry || entry.signature !== signature) {
      const item = deviceItem(session);
      if (entry) {
        const hadFocus = entry.item.contains(document.activeElement);
        entry.item.replaceWith(item);
        if (hadFocus) item.querySelector('button')?.focus();
      }
      entry = { item, signature };
      shown.set(session.id, entry);
    }
    if (list.children[index] !== entry.item) list.insertBefore(entry.item, list.children[index] ?? null);
  });
  return changed;
}

function deviceItem(session) {
  const label = session.device?.label || 'Unknown device';
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
      h('p', { class: 'device-times' }, timeElement(session.created_at, 'signed-in'), ' · ', timeElement(session.last_active_at, session.current ? 'current' : 'active')),
    ),
    session.current
      ? null
      : h('button', { type: 'button', class: 'secondary device-sign-out', 'aria-label': `Sign out ${label}`, onclick: () => signOutDevice(session.id, label) }, 'Sign out'),
  );
}

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
  onChange();
}

/** Takes one device off the list, leaving focus on its neighbour rather than on nothing. */
function removeShown(id) {
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
    await pollNow();
  } catch (error) {
    if (!(error instanceof SessionEnded)) showMessage(messages, 'error', errorText(error));
  }
}

/** Fetches the list now; `changed()` runs if the set of sessions differs from what was shown. */
export async function pollNow() {
  if (polling) return;
  polling = true;
  try {
    const mounted = generation;
    const { sessions } = await call('GET', '/v1/me/sessions');
    if (mounted !== generation) return;
    if (render(sessions)) onChange();
    // A failed poll's message goes once the list is current again.
    if (pollFailed) messages.querySelector('.message.error').hidden = true;
    pollFailed = false;
  } catch (error) {
    if (error instanceof SessionEnded) return;
    pollFailed = true;
    showMessage(messages, 'error', `This list could not be updated: ${errorText(error)}`);
  } finally {
    polling = false;
  }
}

function schedule() {
  clearTimeout(pollTimer);
  pollTimer = document.visibilityState === 'visible' ? setTimeout(tick, POLL_MS) : null;
}

async function tick() {
  await pollNow();
  if (pollTimer !== null) schedule();
}

/** Polls every 5 s while the page is visible; a page coming back into view polls at once. */
export function startPolling() {
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
}

export function stopPolling() {
  document.removeEventListener('visibilitychange', onVisibility);
  clearTimeout(pollTimer);
  pollTimer = null;
}

function onVisibility() {
  if (document.visibilityState === 'visible') {
    pollNow();
    schedule();
  } else {
    clearTimeout(pollTimer);
  }
}
