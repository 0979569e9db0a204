/** Twilio's call statuses (https://www.twilio.com/docs/voice/api/call-resource#call-status-values). */
export const CALL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** `DialCallStatus` of a `<Dial action>` callback: the call statuses plus `answered`. */
export const DIAL_CALL_STATUSES = [...CALL_STATUSES, 'answered'] as const;
export type DialCallStatus = (typeof DIAL_CALL_STATUSES)[number];
