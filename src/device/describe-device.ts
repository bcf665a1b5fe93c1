import UAParser from 'ua-parser-js';
import type { Device } from '../core/records.js';

/**
 * User agents are attacker-chosen text: only this many characters are kept and parsed, which
 * bounds both the row size and the regular-expression work per sign-in.
 */
export const MAX_USER_AGENT_LENGTH = 512;

// Versions that say something to a person; macOS froze its UA version at 10.15.7 years ago.
const OS_WITH_VERSION = new Set(['Windows', 'Android', 'iOS', 'iPadOS', 'Chrome OS']);
const OS_NAMES: Record<string, string> = { 'Mac OS': 'macOS', Chromium: 'Chrome OS' };

export function clampUserAgent(userAgent: string | undefined): string {
  return (userAgent ?? '').slice(0, MAX_USER_AGENT_LENGTH);
}

/** Browser, OS, device type and a label a person recognises: "Firefox 121 on Ubuntu". */
export function describeDevice(userAgent: string): Device {
  const ua = new UAParser(userAgent).getResult();
  const browser = ua.browser.name ? [ua.browser.name, ua.browser.major].filter(Boolean).join(' ') : null;
  const osName = ua.os.name ? (OS_NAMES[ua.os.name] ?? ua.os.name) : null;
  const osVersion = osName && OS_WITH_VERSION.has(osName) && ua.os.version ? ua.os.version.split('.')[0] : undefined;
  const os = osName ? [osName, osVersion].filter(Boolean).join(' ') : null;
  const type = ua.device.type ?? (browser || os ? 'desktop' : 'other');
  return { browser, os, type, label: label(browser, os, userAgent) };
}

function label(browser: string | null, os: string | null, userAgent: string): string {
  if (browser && os) return `${browser} on ${os}`;
  if (browser || os) return (browser ?? os) as string;
  // Not a browser: name the program by its first product token, "curl/8.5.0" → "curl 8.5.0".
  const product = /^([A-Za-z][\w.-]{0,39})\/([\w.-]{1,20})/.exec(userAgent);
  return product ? `${product[1]} ${product[2]}` : 'Unknown device';
}
