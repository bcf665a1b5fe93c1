// @ts-check
// The account's address: proving it (the account's banner, sign-in's "Send a new link" and the
// page a verification link opens) and changing it (the account's card, the page the new address's
// link opens, and the one the old address's link opens to cancel). app.js lends its view helpers
// (mountEmail), as it does to reset.js.
import * as api from './api.js';
import { $ } from './dom.js';
import { mailIsOn, RESET_PATH, showResetRequest } from './reset.js';

/** @import { User } from './api.js' */
/** @import { MessageKind } from './dom.js' */
/** @typedef {'verify-email' | 'confirm-email-change' | 'cancel-email-change'} LinkView */
/**
 * What app.js lends: building and showing views, its form handling, and the page's start (the
 * account of a browser signed in, else the sign-in form).
 * @typedef {object} Views
 * @property {(name: LinkView) => HTMLElement} build
 * @property {(view: HTMLElement, options?: { focus?: boolean }) => HTMLElement} attach
 * @property {(view: HTMLElement, kind: MessageKind, text: string) => void} say
 * @property {(form: HTMLFormElement, action: (data: FormData) => Promise<void>) => void} onSubmit
 * @property {() => Promise<void>} showStart
 */

/**
 * Per path that an emailed link opens (the pages of src/mail/compose.ts): its view, what its
 * button does, what the page says once done, and why a link cannot do it any more.
 * @type {ReadonlyMap<string, { view: LinkView, act: (token: string) => Promise<void>, done: string, spent: ReadonlyMap<string, string> }>}
 */
const LINKS = new Map([
  [
    '/verify-email',
    {
      view: /** @type {const} */ ('verify-email'),
      act: api.confirmEmailVerification,
      done: 'Your address is confirmed.',
      spent: new Map([
        ['link_used', 'This link has already been used: your address is confirmed.'],
        ['link_expired', 'This link no longer works: it expired, a newer link was sent, or the address changed since. Sign in, and ask for a new link there.'],
        ['link_invalid', 'This link is not valid; it may have been cut short. Open it again from the email, or sign in and ask for a new link.'],
      ]),
    },
  ],
  [
    '/confirm-email-change',
    {
      view: /** @type {const} */ ('confirm-email-change'),
      act: api.confirmEmailChange,
      done: 'Your address is changed. Sign in with your new address.',
      spent: new Map([
        ['link_used', 'This link has already been used: the address was changed.'],
        [
          'link_expired',
          'This link no longer works: it expired, or the change was cancelled or replaced by a newer one. Ask for the change again from your account.',
        ],
        ['link_invalid', 'This link is not valid; it may have been cut short. Open it again from the email.'],
        ['email_taken', 'Another account has taken this address since the change was asked for, so your address was not changed.'],
      ]),
    },
  ],
  [
    '/cancel-email-change',
    {
      view: /** @type {const} */ ('cancel-email-change'),
      act: api.cancelEmailChange,
      done: 'The change is cancelled, your account keeps its address, and every device was signed out. If you did not ask for the change, someone else may know your password: choose a new one now.',
      spent: new Map([
        ['link_used', 'This link has already been used: the change was cancelled and every device signed out.'],
        [
          'link_expired',
          'This link no longer works: it expired, or a newer change was asked for since. If someone else is changing your address, choose a new password.',
        ],
        ['link_invalid', 'This link is not valid; it may have been cut short. Open it again from the email.'],
      ]),
    },
  ],
]);

/** @type {Views} */
let views;

/** @param {Views} lent */
export function mountEmail(lent) {
  views = lent;
  // A link pasted into a tab already at its path changes only the fragment: no reload.
  window.addEventListener('hashchange', () => {
    if (isEmailLinkPage() && location.hash) showEmailLink();
  });
}

/** Is the page at a path that an emailed link about the address opens? */
export const isEmailLinkPage = () => mailIsOn() && LINKS.has(location.pathname);

/**
 * The view for the link the page was opened with. The token leaves the address bar at once (out
 * of history, bookmarks and shared screens), and nothing is sent until the button is pressed:
 * mail scanners open links too.
 * @param {{ focus?: boolean }} [options]
 */
export function showEmailLink({ focus = true } = {}) {
  const path = location.pathname;
  const link = /** @type {NonNullable<ReturnType<typeof LINKS.get>>} */ (LINKS.get(path));
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (location.hash) history.replaceState(null, '', path);
  const view = views.build(link.view);
  views.onSubmit(/** @type {HTMLFormElement} */ ($('form', view)), async () => {
    try {
      await link.act(/** @type {string} */ (token));
    } catch (error) {
      const spent = error instanceof api.ApiError ? link.spent.get(error.code) : undefined;
      if (!spent) throw error; // offline, rate limited and the like: the button may be tried again
      return finish(view, 'error', spent);
    }
    finish(view, 'info', link.done);
  });
  $('[data-show="start"]', view).addEventListener('click', () => {
    history.replaceState(null, '', '/');
    views.showStart();
  });
  view.querySelector('[data-show="reset-request"]')?.addEventListener('click', () => {
    history.replaceState(null, '', RESET_PATH);
    showResetRequest();
  });
  views.attach(view, { focus });
  // A reload after the fragment went, or a link cut short: there is nothing to send.
  if (!token) finish(view, 'error', 'This page works only with the whole link from the email: open it again from there.', { focus: false });
}

/**
 * The link did what it could: its form goes, the message says how it went, and the ways on appear.
 * @param {HTMLElement} view
 * @param {MessageKind} kind
 * @param {string} text
 * @param {{ focus?: boolean }} [options]
 */
function finish(view, kind, text, { focus = true } = {}) {
  $('form', view).hidden = true;
  const next = $('[data-part="next"]', view);
  next.hidden = false;
  views.say(view, kind, text);
  // The focused button just went: focus goes where the way on is.
  if (focus) $('button', next).focus();
}

/**
 * The account's parts about its address: the banner while the address is unproved, and the
 * "Change email" card. Without mail there is neither: no link could be sent.
 * @param {HTMLElement} view The account view, before it is shown.
 * @param {User | null} user
 */
export function mountAccountEmail(view, user) {
  const banner = $('[data-part="unverified"]', view);
  const card = $('[data-part="email-change"]', view);
  card.hidden = !mailIsOn();
  banner.hidden = !mailIsOn() || !user || user.email_verified;
  $('[data-part="address"]', banner).textContent = user?.email ?? '';

  views.onSubmit(/** @type {HTMLFormElement} */ ($('form', banner)), async () => {
    const { detail } = await api.call('POST', '/v1/me/email-verification');
    views.say(banner, 'info', detail);
  });

  const form = /** @type {HTMLFormElement} */ ($('form', card));
  views.onSubmit(form, async (data) => {
    let answer;
    try {
      answer = await api.call('POST', '/v1/me/email', { email: String(data.get('email')).trim(), password: String(data.get('password')) });
    } catch (error) {
      if (error instanceof api.ApiError && error.code === 'invalid_credentials') throw new Error('Your password is not right.', { cause: error });
      throw error;
    }
    form.reset();
    views.say(card, 'info', answer.detail);
  });
}

/**
 * Sign-in's "Send a new link", for an account whose address must be proved before it signs in
 * (`email_not_verified`). It asks for a link for the address typed in the form, and shows the
 * server's answer, which is the same whatever the address.
 * @param {HTMLElement} view The sign-in view.
 * @returns {(show: boolean) => void} Shows the button, or hides it again.
 */
export function mountSignInLink(view) {
  const form = /** @type {HTMLFormElement} */ ($('[data-part="unverified"]', view));
  const email = /** @type {HTMLInputElement} */ ($('input[name="email"]', view));
  views.onSubmit(form, async () => {
    const { detail } = await api.requestEmailVerification(email.value.trim());
    views.say(view, 'info', detail);
  });
  return (show) => {
    form.hidden = !show;
  };
}

/**
 * Did sign-in refuse because the address is not proved yet?
 * @param {unknown} error
 * @returns {boolean}
 */
export const isUnverified = (error) => error instanceof api.ApiError && error.code === 'email_not_verified';
