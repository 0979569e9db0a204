/**
 * The facts the ledger publishes for CRMs and alerts, read from the table's stream: each one once
 * per item change, with a stable `id` (the same fact always has the same id, so a consumer can
 * drop the rare re-delivery):
 *
 * - `Missed call recorded`: a call decided missed and counted (id `missed-call-recorded:<root CallSid>`);
 * - `Outcome corrected`: a counted miss that later evidence changed: answered after all, or
 *   missed for another reason (id `outcome-corrected:<root CallSid>:<what it counts as now>`);
 * - `Callback opened`: a contact whose open callback appears, or starts later than before (the
 *   earlier one was resolved) (id `callback-opened:<phone>:<openSince>`), with the `callSid` of
 *   the miss that opened it: the text-back function's rule on the bus acts on these;
 * - `Callback resolved`: a resolution item written or changed (id
 *   `callback-resolved:<phone>:<resolving id>:<missedCount>`);
 * - `Text-back sent`: a text-back item whose opened callback's text was sent (id
 *   `text-back-sent:<phone>:<openSince>`);
 * - `Voicemail left` / `Voicemail transcribed`: a missed call's message, its transcript (ids
 *   `voicemail-left:<RecordingSid>`, `voicemail-transcribed:<RecordingSid>`);
 * - `Recording forgotten`: the ledger forgot a call Twilio holds a recording of (its item's TTL
 *   deletion, or an erasure): one per recording (id `recording-forgotten:<RecordingSid>`), no
 *   phone number in it. The recordings function's rule on the bus deletes it at Twilio;
 * - `Callback attempted`: a call back through Twilio has its outcome, or another one (id
 *   `callback-attempted:<phone>:<attempt id>:<outcome>`).
 */

import { parseCalling } from '../callbacks/calling.js';
import { callbackOpening, parseCallbackState, parseResolutionSummary } from '../callbacks/item.js';
import { episodes } from '../callbacks/model.js';
import { type CallFact, isCountedMiss, parseCallFact, parseCallRecord, parseVoicemail, recordingSidsOf } from '../ledger/call-item.js';
import { maskPhone } from '../phone/phone.js';
import { readable } from '../table/items.js';
import { parseTextBackRecord } from '../textback/item.js';

export const EVENT_SOURCE = 'missed-call-ledger';
export const DETAIL_TYPES = [
  'Missed call recorded',
  'Outcome corrected',
  'Callback opened',
  'Callback resolved',
  'Text-back sent',
  'Voicemail left',
  'Voicemail transcribed',
  'Recording forgotten',
  'Callback attempted',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export interface LedgerEvent {
  id: string;
  detailType: DetailType;
  /** The event's `detail`; it carries `id` too. */
  detail: Record<string, unknown>;
}

type Image = Readonly<Record<string, unknown>> | undefined;

/** Each item read by its owner's codec; an item that cannot be read makes no event (a warning is logged). */
export function eventsOf(eventName: string | undefined, oldImage: Image, newImage: Image): LedgerEvent[] {
  if (eventName === 'REMOVE') return forgottenEvents(oldImage);
  if (newImage === undefined) return [];
  if (newImage.type === 'call') {
    const was = isCountedMiss(oldImage);
    const is = isCountedMiss(newImage);
    if (!was && !is) return [];
    const call = readable(() => parseCallFact(newImage), 'call item');
    if (call === undefined) return [];
    const messages = is ? voicemailEvents(call, oldImage, newImage) : [];
    if (!was) {
      const id = `missed-call-recorded:${call.callSid}`;
      return [{ id, detailType: 'Missed call recorded', detail: { id, ...call } }, ...messages];
    }
    // What each image counts (a 0.1.0 item: the key it was counted under, as the ledger reads it).
    const countedOf = (image: Image) =>
      image === undefined || !isCountedMiss(image) ? undefined : readable(() => parseCallRecord(image).countedAs, 'call item');
    const counted = countedOf(newImage) ?? 'none';
    if (is && counted === countedOf(oldImage)) return messages;
    const before = oldImage === undefined ? undefined : readable(() => parseCallFact(oldImage), 'call item');
    const id = `outcome-corrected:${call.callSid}:${counted}`;
    const outcome = typeof newImage.outcome === 'string' ? newImage.outcome : 'missed';
    return [
      {
        id,
        detailType: 'Outcome corrected',
        detail: {
          id,
          callSid: call.callSid,
          outcome,
          ...(is ? { reason: call.reason, status: call.status, afterHours: call.afterHours === true } : {}),
          was: { outcome: 'missed', reason: before?.reason, status: before?.status },
          customer: call.customer,
          line: call.line,
          day: before?.day ?? call.day,
        },
      },
    ];
  }
  if (newImage.type === 'contact') {
    const opening = callbackOpening(oldImage, newImage);
    if (opening === undefined) return [];
    const id = `callback-opened:${opening.phone}:${opening.callback.openSince}`;
    // The miss that opened it: the first of the open episode (the text-back reads its call).
    const open = readable(() => episodes(parseCallbackState(newImage.callbacks)).open, 'contact item');
    const callSid = open?.openSince === opening.callback.openSince ? open.callSids[0] : undefined;
    return [
      {
        id,
        detailType: 'Callback opened',
        detail: { id, phone: opening.phone, ...opening.callback, ...(callSid === undefined ? {} : { callSid }) },
      },
    ];
  }
  if (newImage.type === 'calling') return attemptedEvents(oldImage, newImage);
  if (newImage.type === 'textback') {
    const now = readable(() => parseTextBackRecord(newImage), 'text-back item');
    const e = now?.episode;
    if (now === undefined || e?.state !== 'sent') return [];
    const was = oldImage === undefined ? undefined : readable(() => parseTextBackRecord(oldImage), 'text-back item')?.episode;
    if (was?.state === 'sent' && was.openSince === e.openSince) return [];
    const id = `text-back-sent:${now.phone}:${e.openSince}`;
    return [
      {
        id,
        detailType: 'Text-back sent',
        detail: { id, phone: now.phone, openSince: e.openSince, messageSid: e.messageSid, sentAt: e.sentAt },
      },
    ];
  }
  if (newImage.type === 'resolution' && newImage.resolution !== undefined) {
    const r = readable(() => parseResolutionSummary(newImage), 'resolution item');
    if (r === undefined) return [];
    const was = oldImage?.resolution === undefined ? undefined : readable(() => parseResolutionSummary(oldImage), 'resolution item');
    if (was !== undefined && JSON.stringify(was) === JSON.stringify(r)) return [];
    const id = `callback-resolved:${r.phone}:${r.id}:${String(r.missedCount)}`;
    return [{ id, detailType: 'Callback resolved', detail: { ...r, id, resolutionId: r.id } }];
  }
  return [];
}

/** Each call back whose outcome appeared or changed on a calling item. */
function attemptedEvents(oldImage: Image, newImage: Image): LedgerEvent[] {
  const now = newImage === undefined ? undefined : readable(() => parseCalling(newImage), 'calling item');
  if (now === undefined) return [];
  const before = oldImage?.type === 'calling' ? readable(() => parseCalling(oldImage), 'calling item') : undefined;
  const was = new Map((before?.attempts ?? []).map((a) => [a.id, a.outcome]));
  return now.attempts.flatMap((a): LedgerEvent[] => {
    if (a.outcome === undefined || was.get(a.id) === a.outcome) return [];
    const id = `callback-attempted:${now.phone}:${a.id}:${a.outcome}`;
    return [
      {
        id,
        detailType: 'Callback attempted',
        detail: {
          id,
          phone: now.phone,
          attemptId: a.id,
          at: a.at,
          agent: a.agent,
          outcome: a.outcome,
          ...(a.callSid ? { callSid: a.callSid } : {}),
        },
      },
    ];
  });
}

/** A call item the ledger forgot (TTL, erasure): its recordings at Twilio, to be deleted there. */
function forgottenEvents(oldImage: Image): LedgerEvent[] {
  if (oldImage?.type !== 'call') return [];
  const callSid = oldImage.callSid;
  const sids = readable(() => recordingSidsOf(oldImage), 'call item') ?? [];
  return sids.map((recordingSid) => {
    const id = `recording-forgotten:${recordingSid}`;
    return {
      id,
      detailType: 'Recording forgotten' as const,
      detail: { id, recordingSid, ...(typeof callSid === 'string' ? { callSid } : {}) },
    };
  });
}

/**
 * The voicemail facts of a counted miss's change: `Voicemail left` when its message appears (id
 * `voicemail-left:<RecordingSid>`), `Voicemail transcribed` when its transcript does (id
 * `voicemail-transcribed:<RecordingSid>`; Twilio's transcript usually comes after the recording).
 */
function voicemailEvents(call: CallFact, oldImage: Image, newImage: Image): LedgerEvent[] {
  const now = parseVoicemail(newImage?.voicemail);
  if (now === undefined) return [];
  const before = parseVoicemail(oldImage?.voicemail);
  const about = {
    callSid: call.callSid,
    customer: call.customer,
    line: call.line,
    reason: call.reason,
    afterHours: call.afterHours === true,
  };
  const events: LedgerEvent[] = [];
  if (before?.recordingSid !== now.recordingSid) {
    const id = `voicemail-left:${now.recordingSid}`;
    events.push({ id, detailType: 'Voicemail left', detail: { id, ...about, ...now } });
  }
  if (now.transcript !== undefined && (before?.recordingSid !== now.recordingSid || before.transcript === undefined)) {
    const id = `voicemail-transcribed:${now.recordingSid}`;
    events.push({ id, detailType: 'Voicemail transcribed', detail: { id, ...about, ...now } });
  }
  return events;
}

/** An event id safe to log: the number it holds masked as every logged number is. */
export const maskedEventId = (id: string): string => id.replace(/\+\d+/g, (n) => maskPhone(n) ?? n);
