/**
 * The text-back item (`TEXTBACK#<E.164>`): its states and reasons, its parser, what a callback
 * and a contact show of it, and the text-back counters of a day (`textback:*`).
 */
import type { CounterReader } from '../ledger/day-counters.js';
import { InvalidItemError, isOneOf, isRecord, requireNumber, requireString } from '../table/items.js';
import { SEND_FAILURES, type SendFailure } from '../twilio/errors.js';

/** Why an opened callback got no text. */
export const SKIP_REASONS = [
  'outbound', // the miss was a call we placed (outbound-api)
  'invalid-number', // not a number that can receive a text
  'too-old', // the miss is older than TEXT_BACK_MAX_AGE_MINUTES (e.g. recovered at night)
  'cooldown', // texted within TEXT_BACK_COOLDOWN_HOURS
  'opted-out', // the number replied STOP before (Twilio 21610)
  'not-textable', // Twilio said before: not a mobile number, or invalid (21614, 21211)
  'no-sender', // no Messaging Service and no line to send from
  'answered', // the call turned out answered (its answered leg's callback came after the decision)
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Why a send failed: what Twilio's answer meant (lib/twilio/errors.ts reads its error codes). */
export const FAIL_REASONS = SEND_FAILURES;
export type FailReason = SendFailure;

const EPISODE_STATES = ['claimed', 'sent', 'skipped', 'failed', 'unknown'] as const;
export type EpisodeState = (typeof EPISODE_STATES)[number];

/** The text-back of one opened callback, as the contact and the callback show it. */
export interface TextBackEpisode {
  openSince: string;
  state: EpisodeState;
  claimedAt?: string;
  messageSid?: string;
  sentAt?: string;
  reason?: SkipReason | FailReason | 'crashed-after-claim';
  /** Twilio's error code of a failed send. */
  errorCode?: number;
}

/** The `TEXTBACK#<E.164>` item. */
export interface TextBackRecord {
  phone: string;
  version: number;
  episode?: TextBackEpisode;
  lastSentAt?: string;
  /** STOP (21610): never texted again. */
  optedOutAt?: string;
  /** Not a mobile number or invalid (21614, 21211): never texted again. */
  notTextable?: { reason: 'not-mobile' | 'invalid-number'; at: string };
}

function parseEpisode(value: unknown): TextBackEpisode | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !isOneOf(EPISODE_STATES, value.state)) throw new InvalidItemError('episode is malformed');
  const episode: TextBackEpisode = { openSince: requireString(value, 'openSince'), state: value.state };
  for (const name of ['claimedAt', 'messageSid', 'sentAt', 'reason'] as const) {
    if (typeof value[name] === 'string') Object.assign(episode, { [name]: value[name] });
  }
  if (typeof value.errorCode === 'number') episode.errorCode = value.errorCode;
  return episode;
}

/** The `TEXTBACK#<E.164>` item; undefined when there is none. @throws InvalidItemError */
export function parseTextBackRecord(item: Readonly<Record<string, unknown>> | undefined): TextBackRecord | undefined {
  if (item === undefined) return undefined;
  const record: TextBackRecord = { phone: requireString(item, 'phone'), version: requireNumber(item, 'version') };
  const episode = parseEpisode(item.episode);
  if (episode !== undefined) record.episode = episode;
  if (typeof item.lastSentAt === 'string') record.lastSentAt = item.lastSentAt;
  if (typeof item.optedOutAt === 'string') record.optedOutAt = item.optedOutAt;
  const nt = item.notTextable;
  if (isRecord(nt) && (nt.reason === 'not-mobile' || nt.reason === 'invalid-number') && typeof nt.at === 'string')
    record.notTextable = { reason: nt.reason, at: nt.at };
  return record;
}

/** What a callback shows of its text-back: `{ state, messageSid, sentAt | reason }`. */
export type TextBackSummary = Pick<TextBackEpisode, 'state' | 'messageSid' | 'sentAt' | 'reason' | 'errorCode'>;

export function textBackSummary(episode: TextBackEpisode): TextBackSummary {
  const { openSince: _openSince, claimedAt: _claimedAt, ...shown } = episode;
  return shown;
}

/** The text-back of the callback that opened at `openSince`, or null (none, or another callback's). */
export function callbackTextBack(record: TextBackRecord | undefined, openSince: string): TextBackSummary | null {
  return record?.episode?.openSince === openSince ? textBackSummary(record.episode) : null;
}

/** What a contact shows of its text-back: the last opened callback's, and whether the number may be texted. */
export type ContactTextBack = TextBackSummary & {
  openSince: string;
  optedOut: boolean;
  notTextable: 'not-mobile' | 'invalid-number' | null;
};

export function contactTextBack(record: TextBackRecord | undefined): ContactTextBack | null {
  if (record?.episode === undefined) return null;
  return {
    openSince: record.episode.openSince,
    ...textBackSummary(record.episode),
    optedOut: record.optedOutAt !== undefined,
    notTextable: record.notTextable?.reason ?? null,
  };
}
/** Texts to callers whose callback opened on the day (TEXT_BACK=on): one outcome per opened callback. */
export interface TextBackDayCounts {
  sent: number;
  skipped: Record<SkipReason, number>;
  failed: Record<FailReason, number>;
  /** Claimed, then the sender stopped before Twilio's answer was recorded: maybe sent, never sent twice. */
  unknown: number;
}

/** The day counter one settled opening adds (on the day the callback opened). */
export function textBackCounter(episode: TextBackEpisode): string | undefined {
  if (episode.state === 'sent') return 'textback:sent';
  if (episode.state === 'skipped') return `textback:skipped:${episode.reason}`;
  if (episode.state === 'failed') return `textback:failed:${episode.reason}`;
  if (episode.state === 'unknown') return 'textback:unknown';
  return undefined;
}

export function textBackDayCounts(count: CounterReader): TextBackDayCounts {
  const byReason = <R extends string>(reasons: readonly R[], prefix: string): Record<R, number> => {
    const counts = {} as Record<R, number>;
    for (const reason of reasons) counts[reason] = count(`${prefix}${reason}`);
    return counts;
  };
  return {
    sent: count('textback:sent'),
    skipped: byReason(SKIP_REASONS, 'textback:skipped:'),
    failed: byReason(FAIL_REASONS, 'textback:failed:'),
    unknown: count('textback:unknown'),
  };
}
