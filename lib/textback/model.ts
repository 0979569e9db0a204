/**
 * Text-back as pure decisions: which opened callback gets one SMS, which is skipped and why, and
 * what a Twilio answer means for the number. The state lives on its own item, `TEXTBACK#<E.164>`
 * (lib/textback/store.ts), never on the contact: claims and results never contend with the
 * contacts function's writes.
 *
 * At most once per opened callback: the claim (the episode's `openSince`, state `claimed`) is
 * written before Twilio is asked; a later look at the same opening finds it and sends nothing.
 * A claim still `claimed` when the opening is seen again means the sender stopped between the
 * claim and the result (a crash): the text may or may not have gone, and it is not sent again
 * (`unknown`).
 */
import { callerId } from '../phone/phone.js';
import { isOpen } from '../platform/hours.js';
import type { SkipReason, TextBackRecord } from './item.js';
import type { TextBackSettings } from './settings.js';

/** A callback that opened: the number, the opening miss and the line the caller dialled. */
export interface Opening {
  phone: string;
  openSince: string;
  line: string;
  /** The CallSid of the miss that opened it. */
  callSid: string;
}

export type Decision =
  | { kind: 'duplicate' }
  | { kind: 'crashed' }
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'send'; to: string; from: string | undefined; messagingServiceSid: string | undefined; body: string; afterHours: boolean };

/**
 * What to do for an opening. `direction` is the opening call's (undefined when its item is gone).
 * Order: seen before (duplicate or crashed), then the reasons never to text, then time.
 */
export function decide(input: {
  opening: Opening;
  direction: string | undefined;
  /** Later evidence showed the opening call answered (its correction may reach the contact after this look). */
  answered?: boolean;
  record: TextBackRecord | undefined;
  settings: TextBackSettings;
  now: Date;
}): Decision {
  const { opening, record, settings, now } = input;
  const seen = record?.episode;
  if (seen !== undefined && seen.openSince >= opening.openSince) {
    return seen.openSince === opening.openSince && seen.state === 'claimed' ? { kind: 'crashed' } : { kind: 'duplicate' };
  }
  // A call we placed (the customer is its `To`). A `<Dial>` leg (`outbound-dial`) reports an inbound
  // call; a call item gone (TTL, long after any text-back) is treated as not ours to text.
  if (input.direction === 'outbound-api' || input.direction === undefined) return { kind: 'skip', reason: 'outbound' };
  // A call first decided missed that turned out answered is never texted.
  if (input.answered === true) return { kind: 'skip', reason: 'answered' };
  const id = callerId(opening.phone);
  if (id.kind !== 'number') return { kind: 'skip', reason: 'invalid-number' };
  if (record?.optedOutAt !== undefined) return { kind: 'skip', reason: 'opted-out' };
  if (record?.notTextable !== undefined) return { kind: 'skip', reason: 'not-textable' };
  if (now.getTime() - Date.parse(opening.openSince) > settings.maxAgeMinutes * 60_000) return { kind: 'skip', reason: 'too-old' };
  const last = record?.lastSentAt === undefined ? undefined : Date.parse(record.lastSentAt);
  if (last !== undefined && now.getTime() - last < settings.cooldownHours * 3_600_000) return { kind: 'skip', reason: 'cooldown' };
  const from = opening.line === '' ? undefined : opening.line;
  if (settings.messagingServiceSid === undefined && from === undefined) return { kind: 'skip', reason: 'no-sender' };
  const open = isOpen(settings.hours, settings.timeZone, now);
  return {
    kind: 'send',
    to: id.e164,
    from: settings.messagingServiceSid === undefined ? from : undefined,
    messagingServiceSid: settings.messagingServiceSid,
    body: open ? settings.message : settings.afterHoursMessage,
    afterHours: !open,
  };
}
