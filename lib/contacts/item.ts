/**
 * The contact item (`CONTACT#<E.164>`): one missed caller, with the callback worklist's facts
 * (lib/callbacks/item.ts reads and writes those attributes), its `byLastMissed` index keys, and
 * the contact counters of a day (`anonymous`, `contactsCreated`).
 */
import { type CallbackFields, callbackFields, parseCallbackState } from '../callbacks/item.js';
import { requireMissedStatus } from '../ledger/call-item.js';
import { MISSED_STATUSES, type MissedStatus } from '../ledger/calls.js';
import type { CounterReader } from '../ledger/day-counters.js';
import { isRecord, requireNumber, requireString, strings } from '../table/items.js';
import type { CONTACT_SUMMARY_ATTRIBUTES } from '../table/keys.js';

export const RECENT_CALLS = 100;

export type Contact = {
  pk: string;
  type: 'contact';
  phone: string;
  missedCount: number;
  statusCounts: Partial<Record<MissedStatus, number>>;
  firstMissedAt: string;
  lastMissedAt: string;
  lastCallSid: string;
  lastStatus: MissedStatus;
  createdAt: string;
  /** The day whose `contactsCreated` counted it (its first miss's day). */
  createdDay?: string;
  updatedAt: string;
  /** The newest missed calls' root CallSids (at most {@link RECENT_CALLS}), newest first. */
  recentCallSids: string[];
  /** Index keys of `byLastMissed`: `contactShard` and `contactSortKey` (lib/table/keys.ts). */
  gsi1pk: string;
  gsi1sk: string;
  /** Optimistic-concurrency version: every write expects the version it read. */
  version: number;
} & CallbackFields;

/**
 * A contact item, checked field by field. The contacts store refuses to overwrite one it cannot
 * read; the read API leaves it out of a listing. The message never holds the key (a full number).
 * @throws InvalidItemError when the item is malformed.
 */
export function parseContact(item: Readonly<Record<string, unknown>>): Contact {
  const statusCounts: Partial<Record<MissedStatus, number>> = {};
  const counts = item.statusCounts;
  if (isRecord(counts)) {
    for (const status of MISSED_STATUSES) {
      const n = counts[status];
      if (typeof n === 'number') statusCounts[status] = n;
    }
  }
  return {
    ...parseContactSummary(item),
    pk: requireString(item, 'pk'),
    type: 'contact',
    statusCounts,
    createdAt: requireString(item, 'createdAt'),
    ...(typeof item.createdDay === 'string' ? { createdDay: item.createdDay } : {}),
    updatedAt: requireString(item, 'updatedAt'),
    recentCallSids: strings(item.recentCallSids),
    gsi1pk: requireString(item, 'gsi1pk'),
    gsi1sk: requireString(item, 'gsi1sk'),
    version: requireNumber(item, 'version'),
    ...callbackFields(requireString(item, 'phone'), parseCallbackState(item.callbacks)),
  };
}

/** A contact as the `byLastMissed` index projects it (lib/table/keys.ts). */
export type ContactSummary = Pick<Contact, (typeof CONTACT_SUMMARY_ATTRIBUTES)[number]>;

/**
 * A contact as the index projects it (and as `GET /contacts` lists it).
 * @throws InvalidItemError when the item is malformed.
 */
export function parseContactSummary(item: Readonly<Record<string, unknown>>): ContactSummary {
  return {
    phone: requireString(item, 'phone'),
    missedCount: requireNumber(item, 'missedCount'),
    firstMissedAt: requireString(item, 'firstMissedAt'),
    lastMissedAt: requireString(item, 'lastMissedAt'),
    lastCallSid: requireString(item, 'lastCallSid'),
    lastStatus: requireMissedStatus(item, 'lastStatus'),
  };
}

/** What the contact counters of a day say. */
export interface ContactDayCounts {
  /** Missed calls from a caller with no number (anonymous, a SIP address…): recorded, no contact. */
  anonymous: number;
  contactsCreated: number;
}

export const contactDayCounts = (count: CounterReader): ContactDayCounts => ({
  anonymous: count('anonymous'),
  contactsCreated: count('contactsCreated'),
});
