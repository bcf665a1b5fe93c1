import type { Role, SessionRecord, UserRecord } from '../../core/records.js';
import type { NewSession } from '../store.js';
import type { SessionsTable, UsersTable } from './tables.js';

/** Translations between table rows (snake_case, flat) and domain records. */

export function toUser(row: UsersTable): UserRecord {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    name: row.name,
    passwordHash: row.password_hash,
    role: row.role as Role,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    passwordChangedAt: row.password_changed_at,
    emailVerifiedAt: row.email_verified_at,
  };
}

export function fromUser(user: UserRecord): UsersTable {
  return {
    id: user.id,
    email: user.email,
    email_key: user.emailKey,
    name: user.name,
    password_hash: user.passwordHash,
    role: user.role,
    disabled_at: user.disabledAt,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    password_changed_at: user.passwordChangedAt,
    email_verified_at: user.emailVerifiedAt,
  };
}

export function toSession(row: SessionsTable): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    authenticatedAt: row.authenticated_at,
    lastActiveAt: row.last_active_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    revokedBy: row.revoked_by,
    client: {
      ip: row.ip,
      userAgent: row.user_agent,
      country: row.country,
      device: { browser: row.browser, os: row.os, type: row.device_type, label: row.device_label },
    },
    refresh: {
      hash: row.refresh_hash,
      key: row.refresh_key,
      generation: row.refresh_generation,
      rotatedAt: row.refresh_rotated_at,
      previousRotatedAt: row.refresh_previous_rotated_at,
      sealedSuccessor: row.refresh_successor,
    },
  };
}

export function fromNewSession(session: NewSession): SessionsTable {
  return {
    id: session.id,
    user_id: session.userId,
    created_at: session.createdAt,
    authenticated_at: session.authenticatedAt,
    last_active_at: session.lastActiveAt,
    idle_expires_at: session.idleExpiresAt,
    expires_at: session.expiresAt,
    revoked_at: null,
    revoked_reason: null,
    revoked_by: null,
    ip: session.client.ip,
    user_agent: session.client.userAgent,
    browser: session.client.device.browser,
    os: session.client.device.os,
    device_type: session.client.device.type,
    device_label: session.client.device.label,
    country: session.client.country,
    refresh_hash: session.refresh.hash,
    refresh_key: session.refresh.key,
    refresh_generation: session.refresh.generation,
    refresh_rotated_at: session.refresh.rotatedAt,
    refresh_previous_rotated_at: session.refresh.previousRotatedAt,
    refresh_successor: session.refresh.sealedSuccessor,
    expiry_recorded_at: null,
  };
}
