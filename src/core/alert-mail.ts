import type { ActivityEvent } from './activity.js';
import { newMail, type NewMail } from './mail.js';

/**
 * The mail an event's alert sends to the account (GATEHOUSE_MAIL_ALERTS), with what its
 * template needs copied from the event: the message is complete even once the event is purged.
 * It goes to the account's address at the time of sending (`recipient: null`), as a webhook
 * reads the account afresh.
 */
export function alertMail(event: ActivityEvent): NewMail[] {
  if (!event.mailAlert || event.userId === null) return [];
  const { client, detail } = event;
  const sessionIds = Array.isArray(detail.session_ids) ? detail.session_ids : [];
  return [
    newMail(event.mailAlert, event.at, {
      recipient: null,
      userId: event.userId,
      data: {
        event_id: event.id,
        event_type: event.type,
        at: event.at,
        device: client?.device.label ?? null,
        country: client?.country ?? null,
        ip: client?.ip ?? null,
        sessions_ended: sessionIds.length,
        actor: event.actor,
        ...(event.mailAlert === 'password_changed' ? { how: 'change' } : {}),
      },
    }),
  ];
}
