// @ts-check
// "Confirm your password": signing out other devices needs a recent password proof, and a
// sign-in older than the server's window must give one again (POST /v1/auth/reauth).
import { ApiError, call, SessionEnded } from './api.js';
import { $, clearMessages, errorText, showMessage } from './dom.js';

/**
 * The prompt of the mounted view: mountPasswordPrompt sets it before anything here reads it
 * (cancelPasswordPrompt still guards with `?.`, against a call before the first view).
 * @type {HTMLDialogElement}
 */
let dialog;
/**
 * Answers the open prompt: true once the password was confirmed, false when the person gave up.
 * @type {((confirmed: boolean) => void) | null}
 */
let settle = null;

/**
 * Wires the prompt of a freshly built account view.
 * @param {HTMLElement} view
 */
export function mountPasswordPrompt(view) {
  dialog = /** @type {HTMLDialogElement} */ ($('#reauth-dialog', view));
  const form = /** @type {HTMLFormElement} */ ($('#reauth-form', view));
  const password = /** @type {HTMLInputElement} */ ($('#reauth-password', view));
  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    try {
      await call('POST', '/v1/auth/reauth', { password: password.value });
      settle?.(true);
    } catch (error) {
      if (error instanceof SessionEnded) return settle?.(false);
      const text = error instanceof ApiError && error.code === 'invalid_credentials' ? 'That password is not right. Try again.' : errorText(error);
      showMessage($('.messages', form), 'error', text);
      password.select();
    } finally {
      busy = false;
    }
  });
  $('#reauth-cancel', view).addEventListener('click', () => settle?.(false));
  // Escape closes a modal dialog by itself; however it closed, the question was not answered.
  dialog.addEventListener('close', () => settle?.(false));
}

/**
 * Resolves to true once the password was confirmed, false when the person gave up.
 * @returns {Promise<boolean>}
 */
export function confirmPassword() {
  const opener = document.activeElement;
  /** @type {HTMLFormElement} */ ($('#reauth-form', dialog)).reset();
  clearMessages(dialog);
  dialog.showModal();
  $('#reauth-password', dialog).focus();
  return new Promise((resolve) => {
    settle = (confirmed) => {
      settle = null;
      if (dialog.open) dialog.close();
      // Back to where the person was, which a native dialog does only in some browsers.
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(confirmed);
    };
  });
}

/** When the session ends under an open prompt. */
export function cancelPasswordPrompt() {
  if (dialog?.open) dialog.close();
}
