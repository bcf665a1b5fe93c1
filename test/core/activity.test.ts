import { describe, expect, it } from 'vitest';
import { deviceKey, newEvent, webhookFor } from '../../src/core/activity.js';
import type { ClientInfo } from '../../src/core/records.js';

const FIREFOX: ClientInfo = {
  ip: '130.149.7.201',
  userAgent: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  device: { browser: 'Firefox 121', os: 'Ubuntu', type: 'desktop', label: 'Firefox 121 on Ubuntu' },
  country: 'DE',
};

describe('what makes a device new', () => {
  const withDevice = (device: Partial<ClientInfo['device']>, rest: Partial<ClientInfo> = {}): ClientInfo => ({
    ...FIREFOX,
    ...rest,
    device: { ...FIREFOX.device, ...device },
  });

  it('is not the address, nor a browser or OS version', () => {
    expect(deviceKey(withDevice({}, { ip: '130.149.7.9' }))).toBe(deviceKey(FIREFOX));
    expect(deviceKey(withDevice({ browser: 'Firefox 122' }))).toBe(deviceKey(FIREFOX));
    expect(deviceKey(withDevice({ os: 'Windows 11' }))).toBe(deviceKey(withDevice({ os: 'Windows 10' })));
  });

  it('is another browser, OS, device type or country', () => {
    const keys = [
      FIREFOX,
      withDevice({ browser: 'Chrome 120' }),
      withDevice({ os: 'Windows 10' }),
      withDevice({ type: 'mobile' }),
      withDevice({}, { country: 'NL' }),
      withDevice({}, { country: null }),
      withDevice({ browser: null }),
    ].map(deviceKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('which events notify', () => {
  it('a sign-in only from a new device', () => {
    expect(webhookFor('signed_in', { new_device: true })).toBe('new_device_login');
    expect(webhookFor('signed_in', { new_device: false })).toBeNull();
  });

  it('password changes, refresh-token reuse and sessions ended from elsewhere', () => {
    expect(webhookFor('password_changed', { session_ids: [] })).toBe('password_changed');
    expect(webhookFor('refresh_token_reused', {})).toBe('refresh_token_reused');
    for (const type of ['session_revoked', 'other_sessions_revoked', 'all_sessions_revoked', 'sessions_evicted', 'sign_in_reported'] as const) {
      expect(webhookFor(type, { session_ids: ['a'] })).toBe('sessions_revoked');
    }
  });

  it('not a report that ended nothing, nor what the owner did to their own session', () => {
    expect(webhookFor('sign_in_reported', { session_ids: [] })).toBeNull();
    for (const type of ['signed_out', 'sign_in_failed', 'account_locked', 'reauthenticated', 'session_expired', 'account_created'] as const) {
      expect(webhookFor(type, {})).toBeNull();
    }
  });

  it('only when webhooks are configured', () => {
    expect(newEvent('password_changed', 0, { userId: 'u' }, false).notify).toBeNull();
    expect(newEvent('password_changed', 0, { userId: 'u' }, true).notify).toBe('password_changed');
  });
});

describe('event ids', () => {
  it('sort in the order the events were made, within one millisecond too', () => {
    const ids = Array.from({ length: 50 }, (_, i) => newEvent('signed_in', 1_796_000_000_000 + Math.floor(i / 10), { userId: 'u' }, false).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
  });
});
