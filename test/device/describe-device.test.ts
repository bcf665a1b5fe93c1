import { describe, expect, it } from 'vitest';
import { clampUserAgent, describeDevice, MAX_USER_AGENT_LENGTH } from '../../src/device/describe-device.js';

describe('describing a device from its user agent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox 121', 'Ubuntu', 'desktop', 'Firefox 121 on Ubuntu'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      'Chrome 120',
      'Windows 10',
      'desktop',
      'Chrome 120 on Windows 10',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      'Safari 17',
      'macOS',
      'desktop',
      'Safari 17 on macOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36',
      'Chrome 120',
      'Android 14',
      'mobile',
      'Chrome 120 on Android 14',
    ],
  ])('%s', (ua, browser, os, type, label) => {
    expect(describeDevice(ua)).toEqual({ browser, os, type, label });
  });

  it('names a program that is not a browser by its product token', () => {
    expect(describeDevice('curl/8.5.0')).toEqual({ browser: null, os: null, type: 'other', label: 'curl 8.5.0' });
  });

  it('says "Unknown device" when there is nothing to go on', () => {
    expect(describeDevice('')).toMatchObject({ label: 'Unknown device', type: 'other' });
  });

  it('keeps at most 512 characters of an attacker-sized user agent', () => {
    expect(clampUserAgent('x'.repeat(100_000))).toHaveLength(MAX_USER_AGENT_LENGTH);
    expect(clampUserAgent(undefined)).toBe('');
  });
});
