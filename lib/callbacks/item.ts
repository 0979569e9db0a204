/**
 * The callback worklist's items: the callback attributes of a contact item (the facts, the open
 * callback and its `byCallbackState` index keys), the resolution items (`RESOLUTION#…`), and
 * what a contact's stream record says about a callback opening.
 */
import { requireMissedStatus, type Voicemail, voicemailField } from '../ledger/call-item.js';
import type { MissedStatus } from '../ledger/calls.js';
import { MISSED_REASONS, type MissedReason } from '../ledger/outcome.js';
import { InvalidItemError, isOneOf, isRecord, requireNumber, requireString } from '../table/items.js';
import { callbackShard, resolutionKey } from '../table/keys.js';
import {
  type Actor,
  type CallbackState,
  EMPTY_STATE,
  type Episode,
  episodes,
  openVoicemail,
  RESOLVED_BY,
  type Resolution,
} from './model.js';

/** The open callback of a number as the contact and the index show it. */
export interface OpenCallback {
  openSince: string;
  openMissedCount: number;
  lastMissedAt: string;
  lastStatus: MissedStatus;
  lastReason: MissedReason;
  line: string;
  /** The newest message the caller left on one of the open callback's misses. */
  voicemail?: Voicemail;
}

const openCallback = (episode: Episode, voicemail: Voicemail | undefined): OpenCallback => ({
  openSince: episode.openSince,
  openMissedCount: episode.missedCount,
  lastMissedAt: episode.lastMissedAt,
  lastStatus: episode.lastStatus,
  lastReason: episode.lastReason,
  line: episode.line,
  ...(voicemail === undefined ? {} : { voicemail }),
});

/** A stored reason, or the status it stands for (stored by version 0.1.0). */
function reasonOr(item: Readonly<Record<string, unknown>>, name: string, status: MissedStatus): MissedReason {
  const value = item[name];
  if (value === undefined) return status;
  if (!isOneOf(MISSED_REASONS, value)) throw new InvalidItemError(`${name} is not a missed-call reason`);
  return value;
}

/** A kept `{id, name}` of who did something, or nothing when absent or malformed. */
export function actorField(value: unknown): { person?: Actor } {
  return isRecord(value) && typeof value.id === 'string' && typeof value.name === 'string'
    ? { person: { id: value.id, name: value.name } }
    : {};
}

/** The callback attributes of a contact item. */
export type CallbackFields = {
  /** The callback worklist's facts (lib/callbacks/model.ts). */
  callbacks: CallbackState;
  /** The open callback, while there is one, with its `byCallbackState` index keys. */
  callback?: OpenCallback;
  gsi2pk?: string;
  gsi2sk?: string;
};

/** The contact's callback attributes for a state: the facts, and the open callback with its index keys. */
export function callbackFields(phone: string, state: CallbackState): CallbackFields {
  const { open } = episodes(state);
  if (open === undefined) return { callbacks: state };
  return {
    callbacks: state,
    callback: openCallback(open, openVoicemail(state)),
    gsi2pk: callbackShard('open', phone),
    gsi2sk: `${open.openSince}#${phone}`,
  };
}

/**
 * The callback facts kept on a contact; absent (a contact older than callbacks) is empty.
 * @throws InvalidItemError when they are malformed.
 */
export function parseCallbackState(value: unknown): CallbackState {
  if (value === undefined) return EMPTY_STATE;
  if (!isRecord(value) || !Array.isArray(value.misses) || !Array.isArray(value.calls)) throw new InvalidItemError('callbacks is malformed');
  const misses = value.misses.map((miss) => {
    if (!isRecord(miss)) throw new InvalidItemError('callbacks.misses is malformed');
    return {
      callSid: requireString(miss, 'callSid'),
      at: requireString(miss, 'at'),
      status: requireMissedStatus(miss, 'status'),
      ...(miss.reason === undefined ? {} : { reason: reasonOr(miss, 'reason', 'no-answer') }),
      line: typeof miss.line === 'string' ? miss.line : '',
      ...voicemailField(miss.voicemail),
    };
  });
  const calls = value.calls.map((call) => {
    if (!isRecord(call) || !isOneOf(RESOLVED_BY, call.by)) throw new InvalidItemError('callbacks.calls is malformed');
    return {
      id: requireString(call, 'id'),
      at: requireString(call, 'at'),
      by: call.by,
      ...(typeof call.note === 'string' ? { note: call.note } : {}),
      ...(typeof call.attempts === 'number' && call.attempts > 0 ? { attempts: call.attempts } : {}),
      ...actorField(call.person),
    };
  });
  const archivedBefore = value.archivedBefore;
  return { misses, calls, ...(typeof archivedBefore === 'string' ? { archivedBefore } : {}) };
}

/**
 * An open callback as the `byCallbackState` index projects its contact (`phone`, `callback`).
 * @throws InvalidItemError when malformed.
 */
export function parseOpenCallbackItem(item: Readonly<Record<string, unknown>>): OpenCallback & { phone: string } {
  const cb = item.callback;
  if (!isRecord(cb) || typeof cb.openMissedCount !== 'number') throw new InvalidItemError('callback is malformed');
  return {
    phone: requireString(item, 'phone'),
    line: typeof cb.line === 'string' ? cb.line : '',
    openSince: requireString(cb, 'openSince'),
    openMissedCount: cb.openMissedCount,
    lastMissedAt: requireString(cb, 'lastMissedAt'),
    lastStatus: requireMissedStatus(cb, 'lastStatus'),
    lastReason: reasonOr(cb, 'lastReason', requireMissedStatus(cb, 'lastStatus')),
    ...voicemailField(cb.voicemail),
  };
}

/** A resolution as stored on its item and listed by `GET /callbacks?state=resolved`. */
export type ResolutionSummary = Omit<Resolution, 'callSids' | 'note' | 'resolvingCallSid'> & {
  phone: string;
  resolvingCallSid?: string;
  note?: string;
};

export function resolutionSummary(phone: string, r: Resolution): ResolutionSummary {
  const { callSids: _callSids, note, resolvingCallSid, ...rest } = r;
  return { phone, ...rest, ...(resolvingCallSid === undefined ? {} : { resolvingCallSid }), ...(note === undefined ? {} : { note }) };
}

/** The item of one resolution (in the resolved index), or its tombstone when a change undid it. */
export function resolutionItem(phone: string, r: Resolution): Record<string, unknown> {
  return {
    pk: resolutionKey(phone, r.id),
    type: 'resolution',
    phone,
    resolution: resolutionSummary(phone, r),
    gsi2pk: callbackShard('resolved', phone),
    gsi2sk: `${r.resolvedAt}#${phone}#${r.id}`,
  };
}

/** A resolution that a later fact moved to another call: kept as a tombstone, out of the index. */
export const resolutionTombstone = (phone: string, id: string): Record<string, unknown> => ({
  pk: resolutionKey(phone, id),
  type: 'resolution',
  phone,
  supersededBy: 'a call that reached the number earlier',
});

/**
 * A resolution item's summary, as listed.
 * @throws InvalidItemError when malformed.
 */
export function parseResolutionSummary(item: Readonly<Record<string, unknown>>): ResolutionSummary {
  const r = item.resolution;
  if (!isRecord(r) || !isOneOf(RESOLVED_BY, r.resolvedBy)) throw new InvalidItemError('resolution is malformed');
  return {
    phone: requireString(r, 'phone'),
    id: requireString(r, 'id'),
    openSince: requireString(r, 'openSince'),
    lastMissedAt: requireString(r, 'lastMissedAt'),
    missedCount: requireNumber(r, 'missedCount'),
    lastStatus: requireMissedStatus(r, 'lastStatus'),
    lastReason: reasonOr(r, 'lastReason', requireMissedStatus(r, 'lastStatus')),
    line: typeof r.line === 'string' ? r.line : '',
    resolvedAt: requireString(r, 'resolvedAt'),
    resolvedBy: r.resolvedBy,
    secondsToCallback: requireNumber(r, 'secondsToCallback'),
    attempts: typeof r.attempts === 'number' ? r.attempts : 0,
    ...actorField(r.person),
    ...(typeof r.resolvingCallSid === 'string' ? { resolvingCallSid: r.resolvingCallSid } : {}),
    ...(typeof r.note === 'string' ? { note: r.note } : {}),
  };
}

/**
 * The callback a contact's stream record opened, or undefined: its open callback appears, or
 * starts later than before (the earlier one was resolved). The events function and the
 * text-back function read openings alike.
 */
export function callbackOpening(
  oldImage: Readonly<Record<string, unknown>> | undefined,
  newImage: Readonly<Record<string, unknown>> | undefined,
): { phone: string; callback: Record<string, unknown> & { openSince: string } } | undefined {
  if (newImage?.type !== 'contact' || !isRecord(newImage.callback)) return undefined;
  const openSince = newImage.callback.openSince;
  const before = isRecord(oldImage?.callback) ? oldImage.callback.openSince : undefined;
  const phone = newImage.phone;
  if (typeof openSince !== 'string' || typeof phone !== 'string') return undefined;
  if (typeof before === 'string' && openSince <= before) return undefined;
  return { phone, callback: { ...newImage.callback, openSince } };
}
