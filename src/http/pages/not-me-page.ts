import type { ErrorCode } from '../../core/errors.js';
import type { ClientInfo } from '../../core/records.js';
import type { ReportableSignIn, SignInReport } from '../../service/report-sign-in.js';
import { escapeHtml, page } from './html.js';

/**
 * The pages of the "this wasn't me" link. The sign-in is described by device, country and
 * time only, not its address: a notification mail gets forwarded and shared, and the page
 * needs no more than the person can recognise.
 */

/** `GET`: asks, and offers one button that posts back to the same URL (no `action`: this URL). */
export function confirmationPage(signIn: ReportableSignIn): string {
  const ended = signIn.sessionActive
    ? '<p>If it wasn’t, sign that session out:</p>'
    : '<p>That session has already ended. If it wasn’t you, report it anyway; then change your password:</p>';
  return page(
    'Was this you?',
    `<h1>Was this you?</h1>
<p class="sign-in">${escapeHtml(describeSignIn(signIn.at, signIn.client))}</p>
${ended}
<form method="post">
<button type="submit">${signIn.sessionActive ? 'Sign that session out' : 'Report this sign-in'}</button>
</form>
<p><small>Nothing changes until you press the button.</small></p>`,
  );
}

/** `POST` from a browser: done; the next step is a new password. */
export function reportedPage(report: SignInReport, accountUrl: string): string {
  const done = report.revoked ? 'Done: that session is signed out.' : 'Done: that session had already ended, and the sign-in is reported.';
  return page(
    'Session signed out',
    `<h1>${done}</h1>
<p>Whoever signed in may know your password. <a href="${escapeHtml(accountUrl)}" rel="noreferrer">Change your password now</a>.</p>`,
  );
}

const LINK_ERRORS: Partial<Record<ErrorCode, [title: string, advice: string]>> = {
  link_used: ['This link has already been used', 'That sign-in was already reported. To review where your account is signed in, sign in to your account.'],
  link_expired: ['This link has expired', 'Sign in to your account to see where it is signed in and sign out any session you do not recognise.'],
  not_found: ['This link is not valid', 'Check that the whole link was copied from the notification.'],
};

/** A link that cannot be used; the stable `code` is shown, as problem+json would carry it. */
export function linkErrorPage(code: ErrorCode, accountUrl: string): string {
  const [title, advice] = LINK_ERRORS[code] ?? LINK_ERRORS.not_found!;
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(advice)} <a href="${escapeHtml(accountUrl)}" rel="noreferrer">Go to your account</a>.</p>
<p><small>Error code: <code>${escapeHtml(code)}</code></small></p>`,
  );
}

/** "Chrome 120 on Windows 10 · Germany · 27 Nov 2026 10:41 UTC" */
export function describeSignIn(at: number, client: ClientInfo | null): string {
  const parts = [client?.device.label ?? 'Unknown device'];
  if (client?.country) parts.push(countryName(client.country));
  parts.push(formatUtc(at));
  return parts.join(' · ');
}

const REGIONS = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function countryName(code: string): string {
  try {
    return REGIONS.of(code) ?? code;
  } catch {
    return code; // not a well-formed region code: show it as stored
  }
}

// Fixed format and zone, not the server's locale: the reader's time zone is unknown here.
function formatUtc(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}
