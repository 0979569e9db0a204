/**
 * The call item (`CALL#<root CallSid>`): its shape, the item a missed call becomes, the readers
 * of its projections, the one transaction that records it with its day's counters, and the
 * counters it owns (`total`, `status:<s>`, `source:<s>`).
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidItemError, isOneOf, requireString, strings } from '../table/items.js';
import { callKey, callSidOfKey } from '../table/keys.js';
import { MISSED_STATUSES, type MissedCall, type MissedStatus, type Source, sourceOf } from './calls.js';
import { addToDay, type CounterReader, ones } from './day-counters.js';

export function isMissedStatus(value: unknown): value is MissedStatus {
  return isOneOf(MISSED_STATUSES, value);
}

/** A field that must be a missed-call status (call, contact and callback items carry them). */
export function requireMissedStatus(item: Readonly<Record<string, unknown>>, name: string): MissedStatus {
  const value = item[name];
  if (!isMissedStatus(value)) throw new InvalidItemError(`${name} is not a missed-call status`);
  return value;
}

const DAY_SECONDS = 86_400;

/** A call item as stored; `legSids` is a string set, `expiresAt` the TTL attribute. */
export type CallItem = Omit<MissedCall, 'rootCallSid' | 'legCallSids'> & {
  pk: string;
  type: 'call';
  /** The root CallSid. */
  callSid: string;
  legSids: Set<string>;
  /** When the call happened as far as known: start, else Twilio's report, else recording time. */
  occurredAt: string;
  recordedAt: string;
  /** The UTC day of `occurredAt`, whose counters the call is counted on. */
  day: string;
  expiresAt: number;
};

/** The item a missed call becomes. */
export function callItem(call: MissedCall, recordedAt: Date, retentionDays: number): CallItem {
  const recorded = recordedAt.toISOString();
  const occurredAt = call.startedAt ?? call.reportedAt ?? recorded;
  return {
    pk: callKey(call.rootCallSid),
    type: 'call',
    callSid: call.rootCallSid,
    legSids: new Set(call.legCallSids),
    accountSid: call.accountSid,
    status: call.status,
    direction: call.direction,
    from: call.from,
    to: call.to,
    customer: call.customer,
    line: call.line,
    source: call.source,
    startedAt: call.startedAt,
    reportedAt: call.reportedAt,
    occurredAt,
    recordedAt: recorded,
    day: occurredAt.slice(0, 10),
    // TTL: DynamoDB deletes the item (within a day or two) after this epoch second.
    expiresAt: Math.floor(recordedAt.getTime() / 1000) + retentionDays * DAY_SECONDS,
  };
}

/** What the reconciliation needs to know of a recorded call (projection `KNOWN_CALL_PROJECTION`). */
export interface KnownCall {
  hasCustomer: boolean;
  legSids: ReadonlySet<string>;
}
export const KNOWN_CALL_PROJECTION = 'pk, customer, legSids';

/** A call item read with `KNOWN_CALL_PROJECTION`: its root CallSid and what is known of it. */
export function parseKnownCall(item: Readonly<Record<string, unknown>>): { rootCallSid: string; known: KnownCall } {
  return {
    rootCallSid: callSidOfKey(requireString(item, 'pk')),
    known: { hasCustomer: typeof item.customer === 'string', legSids: new Set(strings(item.legSids)) },
  };
}

/** A call whose customer is known and whose contact is not applied yet (the contacts' work). */
export interface PendingCall {
  rootCallSid: string;
  customer: string;
  /** The Twilio number the customer tried; '' when unknown. */
  line: string;
  status: MissedStatus;
  occurredAt: string;
  day: string;
}

/**
 * The pending call in a call item, or undefined when the item needs no contact work (not a
 * call, customer not known yet, already applied).
 * @throws InvalidItemError when a call item is malformed.
 */
export function parsePendingCall(item: Readonly<Record<string, unknown>>): PendingCall | undefined {
  if (item.type !== 'call' || item.customer === undefined || item.contactAppliedAt !== undefined) return undefined;
  const status = requireMissedStatus(item, 'status');
  const occurredAt = requireString(item, 'occurredAt');
  if (Number.isNaN(Date.parse(occurredAt))) throw new InvalidItemError('occurredAt is not a timestamp');
  return {
    rootCallSid: requireString(item, 'callSid'),
    customer: requireString(item, 'customer'),
    line: typeof item.line === 'string' ? item.line : '',
    status,
    occurredAt,
    day: requireString(item, 'day'),
  };
}

/** What the `Missed call recorded` event says of a call item (the fields it has). */
export type CallFact = { callSid: string } & Partial<
  Pick<CallItem, 'status' | 'source' | 'direction' | 'occurredAt' | 'day' | 'customer' | 'line' | 'from' | 'to'>
>;
const FACT_FIELDS = ['status', 'source', 'direction', 'occurredAt', 'day', 'customer', 'line', 'from', 'to'] as const;

/** @throws InvalidItemError when the item has no root CallSid or a field of another type. */
export function parseCallFact(item: Readonly<Record<string, unknown>>): CallFact {
  const fact: Record<string, unknown> = { callSid: requireString(item, 'callSid') };
  for (const name of FACT_FIELDS) {
    const value = item[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidItemError(`${name} must be a string`);
    fact[name] = name === 'source' ? (sourceOf(value) ?? value) : value;
  }
  return fact as CallFact;
}

/** A contact's missed call as `GET /contacts/{phone}` shows it. */
export interface CallSummary {
  callSid: string;
  status: MissedStatus;
  occurredAt: string;
  source: Source;
  direction: string;
}
export const CALL_SUMMARY_PROJECTION = {
  ProjectionExpression: 'callSid, #status, occurredAt, #source, direction',
  ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
};

/** @throws InvalidItemError when the item is not a call as recorded. */
export function parseCallSummary(item: Readonly<Record<string, unknown>>): CallSummary {
  const source = sourceOf(item.source);
  if (source === undefined) throw new InvalidItemError('source is not a known source');
  return {
    callSid: requireString(item, 'callSid'),
    status: requireMissedStatus(item, 'status'),
    occurredAt: requireString(item, 'occurredAt'),
    source,
    direction: typeof item.direction === 'string' ? item.direction : '',
  };
}
/**
 * The one transaction that records a call: the conditional put of its item and the increment of
 * its day's counters. Together or not at all, so the counts stay exact under duplicate deliveries.
 */
export function recordCallTransaction(tableName: string, item: CallItem, now: Date): TransactWriteCommandInput {
  return {
    TransactItems: [
      {
        Put: {
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      { Update: addToDay(tableName, item.day, missedCallCounters(item.status, item.source), now.toISOString(), item.callSid) },
    ],
  };
}

/** The counters one recorded missed call increments. */
export const missedCallCounters = (status: MissedStatus, source: Source): Map<string, number> =>
  ones('total', `status:${status}`, `source:${source}`);

/** What the call counters of a day say. */
export interface CallDayCounts {
  totals: { total: number } & Record<MissedStatus, number>;
  bySource: Record<Source, number>;
}

export function callDayCounts(count: CounterReader): CallDayCounts {
  const status = (s: MissedStatus) => count(`status:${s}`);
  const source = (s: Source) => count(`source:${s}`);
  return {
    totals: {
      total: count('total'),
      'no-answer': status('no-answer'),
      busy: status('busy'),
      failed: status('failed'),
      canceled: status('canceled'),
    },
    bySource: {
      // Counted as `source:webhook` before the rename.
      'status-callback': source('status-callback') + count('source:webhook'),
      'dial-action': source('dial-action'),
      reconcile: source('reconcile'),
    },
  };
}
