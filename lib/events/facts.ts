/**
 * The facts the ledger publishes for CRMs and alerts, read from the table's stream: each one once
 * per item change, with a stable `id` (the same fact always has the same id, so a consumer can
 * drop the rare re-delivery):
 *
 * - `Missed call recorded`: a call item inserted (id `missed-call-recorded:<root CallSid>`);
 * - `Callback opened`: a contact whose open callback appears, or starts later than before (the
 *   earlier one was resolved) (id `callback-opened:<phone>:<openSince>`);
 * - `Callback resolved`: a resolution item written or changed (id
 *   `callback-resolved:<phone>:<resolving id>:<missedCount>`);
 * - `Text-back sent`: a text-back item whose opened callback's text was sent (id
 *   `text-back-sent:<phone>:<openSince>`).
 */
import { maskPhone } from '../ledger/phone.js';
import { callbackOpening, isRecord } from '../ledger/schema.js';

export const EVENT_SOURCE = 'missed-call-ledger';
export const DETAIL_TYPES = ['Missed call recorded', 'Callback opened', 'Callback resolved', 'Text-back sent'] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export interface LedgerEvent {
  id: string;
  detailType: DetailType;
  /** The event's `detail`; it carries `id` too. */
  detail: Record<string, unknown>;
}

type Image = Readonly<Record<string, unknown>> | undefined;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The events one stream record of the table makes (none for most). */
export function eventsOf(eventName: string | undefined, oldImage: Image, newImage: Image): LedgerEvent[] {
  if (newImage === undefined || eventName === 'REMOVE') return [];
  if (newImage.type === 'call' && eventName === 'INSERT') {
    const callSid = str(newImage.callSid);
    if (callSid === undefined) return [];
    const id = `missed-call-recorded:${callSid}`;
    const detail: Record<string, unknown> = { id, callSid };
    for (const name of ['status', 'source', 'direction', 'occurredAt', 'day', 'customer', 'line', 'from', 'to']) {
      if (newImage[name] !== undefined) detail[name] = newImage[name];
    }
    return [{ id, detailType: 'Missed call recorded', detail }];
  }
  if (newImage.type === 'contact') {
    const opening = callbackOpening(oldImage, newImage);
    if (opening === undefined) return [];
    const id = `callback-opened:${opening.phone}:${opening.callback.openSince}`;
    return [{ id, detailType: 'Callback opened', detail: { id, phone: opening.phone, ...opening.callback } }];
  }
  if (newImage.type === 'textback' && isRecord(newImage.episode) && newImage.episode.state === 'sent') {
    const e = newImage.episode;
    const was = isRecord(oldImage?.episode) ? oldImage.episode : undefined;
    if (was?.state === 'sent' && was.openSince === e.openSince) return [];
    const phone = str(newImage.phone);
    const id = `text-back-sent:${phone}:${str(e.openSince)}`;
    return [
      {
        id,
        detailType: 'Text-back sent',
        detail: { id, phone, openSince: e.openSince, messageSid: e.messageSid, sentAt: e.sentAt },
      },
    ];
  }
  if (newImage.type === 'resolution' && isRecord(newImage.resolution)) {
    const r = newImage.resolution;
    if (isRecord(oldImage?.resolution) && JSON.stringify(oldImage.resolution) === JSON.stringify(r)) return [];
    const id = `callback-resolved:${str(r.phone)}:${str(r.id)}:${String(r.missedCount)}`;
    return [{ id, detailType: 'Callback resolved', detail: { ...r, id, resolutionId: r.id } }];
  }
  return [];
}

/** An event id safe to log: the number it holds masked as every logged number is. */
export const maskedEventId = (id: string): string => id.replace(/\+\d+/g, (n) => maskPhone(n) ?? n);
