// @ts-check
// The devices page: sign in or register, then the account with its devices, activity and
// password; a forgotten password is reset by email (reset.js), and the address is proved and
// changed by email (email.js). Plain ES modules, no build step; src/web/routes.ts serves them.
import * as api from './api.js';
import { loadActivity, mountActivity, refreshActivity } from './activity.js';
import { loadDevices, mountDevices, onSessionsChanged, pollNow, startPolling, stopPolling } from './devices.js';
import { $, clearAnnouncements, errorText, refreshTimes, showMessage } from './dom.js';
import { isEmailLinkPage, isUnverified, mountAccountEmail, mountEmail, mountSignInLink, showEmailLink } from './email.js';
import { cancelPasswordPrompt, mountPasswordPrompt } from './reauth.js';
import { mailIsOn, mountReset, RESET_PATH, showResetConfirm, showResetRequest, takeResetToken } from './reset.js';

/** @import { MessageKind } from './dom.js' */

const main = $('#main');
const signOutButton = $('#sign-out');
/** @type {number | null} */
let timesTimer = null;

/**
 * A new copy of a view from its template; nothing of an earlier visit (typed text, lists) remains.
 * @param {'sign-in' | 'register' | 'account' | 'reset-request' | 'reset-confirm' | 'verify-email' | 'confirm-email-change' | 'cancel-email-change'} name
 * @returns {HTMLElement}
 */
function build(name) {
  // Each view's template (index.html) holds the view, one element.
  const template = /** @type {HTMLTemplateElement} */ ($(`#view-${name}`));
  return /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
}

/**
 * Puts `view` on the page; `focus` moves focus to its heading, so a screen reader starts there.
 * @param {HTMLElement} view
 * @param {{ focus?: boolean }} [options]
 * @returns {HTMLElement}
 */
function attach(view, { focus = true } = {}) {
  main.replaceChildren(view);
  document.title = `${view.dataset.title} · Gatehouse`;
  signOutButton.hidden = view.dataset.view !== 'account';
  if (focus) $('h1', view).focus();
  return view;
}

/**
 * @param {HTMLElement} view
 * @param {MessageKind} kind
 * @param {string} text
 */
function say(view, kind, text) {
  showMessage($('.messages', view), kind, text);
}

/**
 * Why the page is back at the sign-in form, in words; each says the device was signed out.
 * @param {string} code
 * @returns {string}
 */
function endedMessage(code) {
  if (code === 'session_expired') return 'Your session expired, so you were signed out. Please sign in again.';
  if (code === 'refresh_token_reused')
    return 'You were signed out on this device because its sign-in was used from somewhere else. Sign in again, and change your password if that was not you.';
  if (code === 'other_account') return 'You were signed out on this tab because another account signed in in this browser. Sign in again to go on.';
  if (code === 'session_revoked')
    return 'You were signed out: this device was signed out from another device, or the password was changed. Please sign in again.';
  return 'You were signed out on this device. Please sign in again.';
}

/**
 * Runs a form's action once at a time; a failure is shown in the form's own alert.
 * @param {HTMLFormElement} form
 * @param {(data: FormData) => Promise<void>} action
 */
function onSubmit(form, action) {
  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await action(new FormData(form));
    } catch (error) {
      if (!(error instanceof api.SessionEnded))
        showMessage($('.messages', /** @type {HTMLElement} its card */ (form.parentElement)), 'error', errorText(error));
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
    }
  });
}

/**
 * @param {{ focus?: boolean, kind?: MessageKind, message?: string | null, email?: string, unverified?: boolean }} [options]
 *   A `message` comes with its `kind`; `unverified` offers a new link for `email`, which the form starts with.
 */
function showSignIn({ focus = true, kind, message, email = '', unverified = false } = {}) {
  const view = build('sign-in');
  const offerLink = mountSignInLink(view);
  /** @type {HTMLInputElement} */ ($('input[name="email"]', view)).value = email;
  onSubmit(/** @type {HTMLFormElement} */ ($('form', view)), async (data) => {
    try {
      await api.signIn(String(data.get('email')), String(data.get('password')));
    } catch (error) {
      offerLink(isUnverified(error));
      throw error;
    }
    await showAccount({ focus: true });
  });
  $('[data-show="register"]', view).addEventListener('click', () => showRegister());
  $('[data-part="forgot"]', view).hidden = !mailIsOn();
  $('[data-show="reset-request"]', view).addEventListener('click', () =>
    showResetRequest({ email: /** @type {HTMLInputElement} */ ($('input[name="email"]', view)).value.trim() }),
  );
  attach(view, { focus });
  offerLink(unverified);
  if (message) say(view, /** @type {MessageKind} */ (kind), message);
}

function showRegister() {
  const view = build('register');
  onSubmit(/** @type {HTMLFormElement} */ ($('form', view)), async (data) => {
    const email = String(data.get('email'));
    const password = String(data.get('password'));
    await api.register(email, password, String(data.get('name') ?? '').trim() || undefined);
    try {
      await api.signIn(email, password);
    } catch (error) {
      if (!isUnverified(error)) throw error;
      // GATEHOUSE_EMAIL_VERIFICATION=required: the account exists, and signs in once its address is proved.
      return showSignIn({
        kind: 'info',
        message: `Your account is created. Open the link we sent to ${email} to confirm your address, then sign in.`,
        email,
        unverified: true,
      });
    }
    await showAccount({ focus: true });
  });
  $('[data-show="sign-in"]', view).addEventListener('click', () => showSignIn());
  attach(view);
}

/** @param {{ focus: boolean }} options */
async function showAccount({ focus }) {
  const view = build('account');
  const user = api.currentUser();
  $('#account-who', view).textContent = user ? `Signed in as ${user.name ? `${user.name} (${user.email})` : user.email}` : '';
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (view.querySelectorAll('input[name="username"]'))) input.defaultValue = user?.email ?? ''; // survives form.reset()
  mountAccountEmail(view, user);
  mountDevices(view);
  mountActivity(view);
  mountPasswordPrompt(view);
  const passwordForm = /** @type {HTMLFormElement} */ ($('#password-form', view));
  onSubmit(passwordForm, async (data) => {
    try {
      await api.call('POST', '/v1/me/password', { current_password: String(data.get('current_password')), new_password: String(data.get('new_password')) });
    } catch (error) {
      if (error instanceof api.ApiError && error.code === 'invalid_credentials') throw new Error('Your current password is not right.', { cause: error });
      throw error;
    }
    passwordForm.reset();
    showMessage(
      $('.messages', /** @type {HTMLElement} its card */ (passwordForm.parentElement)),
      'info',
      'Your password was changed, and every other device was signed out.',
    );
    await pollNow({ after: 'own' });
    await refreshActivity();
  });

  // Everything is fetched before the view appears, so nothing moves once it is shown.
  const [devices, activity] = await Promise.allSettled([loadDevices(), loadActivity()]);
  if (!api.isSignedIn()) return; // ended while loading: the sign-in form is already up
  attach(view, { focus });
  const failed = [devices, activity].find((result) => result.status === 'rejected');
  if (failed) say(view, 'error', errorText(failed.reason));
  startPolling();
  clearInterval(timesTimer ?? undefined);
  // Every 15 s, so "just now" turns into "1 minute ago" on time rather than up to a minute late.
  timesTimer = setInterval(() => refreshTimes(main), 15_000);
}

function leaveAccount() {
  stopPolling();
  clearAnnouncements();
  clearInterval(timesTimer ?? undefined);
  cancelPasswordPrompt();
}

api.onSessionEnded((code) => {
  leaveAccount();
  showSignIn({ kind: 'error', message: endedMessage(code) });
});

onSessionsChanged(({ remote }) => refreshActivity({ tell: remote }));

signOutButton.addEventListener('click', async () => {
  if (signOutButton.getAttribute('aria-busy') === 'true') return;
  signOutButton.setAttribute('aria-busy', 'true');
  try {
    await api.signOut();
  } catch (error) {
    // Not signed out (offline, a server error): the page stays as it was, still signed in.
    return say(main, 'error', `You are still signed in: ${errorText(error)}`);
  } finally {
    signOutButton.removeAttribute('aria-busy');
  }
  leaveAccount();
  showSignIn({ kind: 'info', message: 'You signed out on this device.' });
});

/**
 * The page at `/`: a browser with a live cookie goes straight to its account, else to sign-in.
 * @param {{ focus?: boolean }} [options]
 */
async function showStart({ focus = true } = {}) {
  try {
    const { tokens, reason } = await api.restore();
    if (tokens) await showAccount({ focus });
    else showSignIn({ focus, kind: 'error', message: reason ? endedMessage(reason) : null });
  } catch (error) {
    showSignIn({ focus, kind: 'error', message: errorText(error) });
  }
}

mountReset({ build, attach, say, onSubmit, showSignIn });
mountEmail({ build, attach, say, onSubmit, showStart });

// On load, the start, except at a link from an email: that is for whoever holds the email, who
// need not be the account signed in here.
if (location.pathname === RESET_PATH && mailIsOn()) {
  const token = takeResetToken();
  if (token) showResetConfirm(token, { focus: false });
  else showResetRequest({ focus: false });
} else if (isEmailLinkPage()) {
  showEmailLink({ focus: false });
} else {
  await showStart({ focus: false });
}
