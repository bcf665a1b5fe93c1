// @ts-check
// Getting back into an account by email: "Reset your password" asks for a link, and the link
// (/reset-password#token=…) opens "Choose a new password". app.js lends its view helpers
// (mountReset), so that neither module imports the other.
import * as api from './api.js';
import { $ } from './dom.js';

/** @import { MessageKind } from './dom.js' */
/**
 * What app.js lends: building and showing views, its form handling, and the sign-in form.
 * @typedef {object} Views
 * @property {(name: 'reset-request' | 'reset-confirm') => HTMLElement} build
 * @property {(view: HTMLElement, options?: { focus?: boolean }) => HTMLElement} attach
 * @property {(view: HTMLElement, kind: MessageKind, text: string) => void} say
 * @property {(form: HTMLFormElement, action: (data: FormData) => Promise<void>) => void} onSubmit
 * @property {(options?: { kind?: MessageKind, message?: string }) => void} showSignIn
 */

/** Where reset links lead (RESET_PAGE of src/mail/compose.ts). */
export const RESET_PATH = '/reset-password';

/**
 * Why a link cannot set a password; each ends by offering a new link. The page's own words:
 * the person came from an email, not from a form they filled in.
 */
const SPENT_LINKS = new Map([
  ['link_used', 'This link has already been used to choose a new password. If you need to reset your password again, ask for a new link.'],
  ['link_expired', 'This link no longer works: it expired, a newer link was sent, or the account was signed in to since. Ask for a new link.'],
  ['link_invalid', 'This link is not valid; it may have been cut short. Open it again from the email, or ask for a new link.'],
]);

/** @type {Views} */
let views;

/** @param {Views} lent */
export function mountReset(lent) {
  views = lent;
  // A link pasted into a tab already at /reset-password changes only the fragment: no reload.
  window.addEventListener('hashchange', () => {
    if (location.pathname !== RESET_PATH || !mailIsOn()) return;
    const token = takeResetToken();
    if (token) showResetConfirm(token);
  });
}

/** Without mail (src/web/routes.ts marks the page) no link could be sent. */
export const mailIsOn = () => document.body.dataset.mail !== 'off';

/**
 * The token of the reset link the page was opened with, or null. The fragment leaves the address
 * bar at once, so the token is kept out of history, bookmarks and shared screens.
 * @returns {string | null}
 */
export function takeResetToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (location.hash) history.replaceState(null, '', RESET_PATH);
  return token || null;
}

/**
 * The sign-in form lives at `/`: a reload there shows it, or the account once signed in.
 * @param {{ kind?: MessageKind, message?: string }} [options]
 */
function backToSignIn(options) {
  if (location.pathname === RESET_PATH) history.replaceState(null, '', '/');
  views.showSignIn(options);
}

/**
 * "Reset your password". It shows the server's answer, which is the same whether or not the
 * address has an account, so the page tells no more than the server does.
 * @param {{ email?: string, focus?: boolean }} [options]
 */
export function showResetRequest({ email = '', focus = true } = {}) {
  const view = views.build('reset-request');
  const form = /** @type {HTMLFormElement} */ ($('form', view));
  /** @type {HTMLInputElement} */ ($('input[name="email"]', form)).value = email;
  views.onSubmit(form, async (data) => {
    const { detail } = await api.requestPasswordReset(String(data.get('email')));
    views.say(view, 'info', detail);
  });
  $('[data-show="sign-in"]', view).addEventListener('click', () => backToSignIn());
  views.attach(view, { focus });
}

/**
 * "Choose a new password", for the token of a reset link. Showing it sends nothing: mail
 * scanners open links too, and only the person's submit may spend the link.
 * @param {string} token
 * @param {{ focus?: boolean }} [options]
 */
export function showResetConfirm(token, { focus = true } = {}) {
  const view = views.build('reset-confirm');
  const form = /** @type {HTMLFormElement} */ ($('form', view));
  views.onSubmit(form, async (data) => {
    try {
      await api.confirmPasswordReset(token, String(data.get('new_password')));
    } catch (error) {
      const spent = error instanceof api.ApiError ? SPENT_LINKS.get(error.code) : undefined;
      if (!spent) throw error; // weak_password and the like: the form's alert says why
      return offerNewLink(view, spent);
    }
    backToSignIn({ kind: 'info', message: 'Your password was changed and every device was signed out. Sign in with your new password.' });
  });
  $('[data-show="reset-request"]', view).addEventListener('click', () => showResetRequest());
  $('[data-show="sign-in"]', view).addEventListener('click', () => backToSignIn());
  views.attach(view, { focus });
}

/**
 * This link will never set a password: the form goes, and asking for a new link takes its place.
 * @param {HTMLElement} view
 * @param {string} text
 */
function offerNewLink(view, text) {
  $('form', view).hidden = true;
  $('[data-part="ask-again"]', view).hidden = false;
  views.say(view, 'error', text);
  // The focused submit button just went: focus goes where the way on is.
  $('[data-show="reset-request"]', view).focus();
}
