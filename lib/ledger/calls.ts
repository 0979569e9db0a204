/**
 * The domain: which Twilio callbacks are missed calls, and the record one becomes.
 * Plain functions over already-parsed form parameters; no I/O.
 */

import { CALL_STATUSES, type CallStatus, DIAL_CALL_STATUSES, type DialCallStatus } from '../twilio/call-status.js';

export const MISSED_STATUSES = ['no-answer', 'busy', 'failed', 'canceled'] as const;
export type MissedStatus = (typeof MISSED_STATUSES)[number];

/**
 * What recorded a call: a leg's status callback, a `<Dial action>`, or the reconciliation.
 * Items and counters written before the rename say `webhook` for `status-callback`; they read as
 * `status-callback` ({@link sourceOf}).
 */
export const SOURCES = ['status-callback', 'dial-action', 'reconcile'] as const;
export type Source = (typeof SOURCES)[number];
/** Older names of sources, still read. */
export const LEGACY_SOURCES: Readonly<Record<string, Source>> = { webhook: 'status-callback' };

/** A stored source name as a source (legacy names included), or undefined when unknown. */
export function sourceOf(value: unknown): Source | undefined {
  if (typeof value !== 'string') return undefined;
  return SOURCES.find((source) => source === value) ?? LEGACY_SOURCES[value];
}

/** One missed customer call, keyed by its root CallSid. */
export interface MissedCall {
  /** `ParentCallSid ?? CallSid`: the child legs of one `<Dial>` and their parent are one call. */
  rootCallSid: string;
  /** The call legs this delivery reported (the root itself and/or a child leg). */
  legCallSids: string[];
  accountSid: string;
  status: MissedStatus;
  /** Direction of the leg that reported the call (`outbound-dial` for a `<Dial>` child leg). */
  direction: string;
  from: string;
  to: string;
  /** The external party: `From` of an inbound call, `To` of an outbound-api call; unknown for a child leg. */
  customer: string | undefined;
  /** The Twilio number the customer tried: `To` of an inbound call, `From` of an outbound-api call. */
  line: string | undefined;
  source: Source;
  /** When the call started, where the source says (the REST API does; callbacks do not). */
  startedAt: string | undefined;
  /** When Twilio reported the final status (the callback's `Timestamp`), ISO 8601. */
  reportedAt: string | undefined;
}

/** Input that is not a valid Twilio callback: maps to a 4xx, nothing is written. */
export class InvalidCallbackError extends Error {
  override name = 'InvalidCallbackError';
}

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

type Params = Readonly<Record<string, string>>;

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** The value as a Twilio call status, or undefined when it is none. */
export function callStatus(value: string): CallStatus | undefined {
  return isOneOf(CALL_STATUSES, value) ? value : undefined;
}

/** A missed status, or undefined for any status that is not a missed call under this configuration. */
export function missedStatus(status: DialCallStatus, includeCanceled: boolean): MissedStatus | undefined {
  if (status === 'canceled') return includeCanceled ? 'canceled' : undefined;
  return isOneOf(MISSED_STATUSES, status) ? status : undefined;
}

/** The statuses that are missed calls under this configuration (one Twilio list query each). */
export function missedStatuses(includeCanceled: boolean): MissedStatus[] {
  return MISSED_STATUSES.filter((status) => missedStatus(status, includeCanceled) !== undefined);
}

/** The root call of a leg: its parent for a `<Dial>` child leg, itself otherwise. */
export function rootCallSid(callSid: string, parentCallSid: string | null | undefined): string {
  return parentCallSid ?? callSid;
}

/** A call leg as a callback or the REST API describes it. */
export interface CallLeg {
  direction: string;
  from: string;
  to: string;
}

/**
 * The external party of a call leg, by direction: `From` of an inbound call, `To` of an
 * outbound-api call; undefined for a `<Dial>` child leg (`outbound-dial`), which does not carry it.
 */
export function customerNumber(leg: CallLeg): string | undefined {
  if (leg.direction === 'inbound') return leg.from || undefined;
  if (leg.direction === 'outbound-api') return leg.to || undefined;
  return undefined;
}

/** The Twilio number of a call leg (the other end from the customer); undefined for a child leg. */
export function lineNumber(leg: CallLeg): string | undefined {
  if (leg.direction === 'inbound') return leg.to || undefined;
  if (leg.direction === 'outbound-api') return leg.from || undefined;
  return undefined;
}

/**
 * The one way a missed call is made, whatever reported it: the leg that reported it (or, for the
 * reconciliation, the root call when known) gives direction, numbers and the customer.
 */
export function missedCall(leg: CallLeg, fields: Omit<MissedCall, 'direction' | 'from' | 'to' | 'customer' | 'line'>): MissedCall {
  return { ...fields, direction: leg.direction, from: leg.from, to: leg.to, customer: customerNumber(leg), line: lineNumber(leg) };
}

const legOf = (params: Params): CallLeg => ({ direction: params.Direction ?? '', from: params.From ?? '', to: params.To ?? '' });

function requireSid(params: Params, name: string, pattern: RegExp): string {
  const value = params[name];
  if (value === undefined || value === '') throw new InvalidCallbackError(`${name} is required`);
  if (!pattern.test(value)) throw new InvalidCallbackError(`${name} is not a valid Twilio SID`);
  return value;
}

function optionalSid(params: Params, name: string, pattern: RegExp): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!pattern.test(value)) throw new InvalidCallbackError(`${name} is not a valid Twilio SID`);
  return value;
}

function requireStatus<T extends string>(params: Params, name: string, statuses: readonly T[]): T {
  const value = params[name];
  if (value === undefined || value === '') throw new InvalidCallbackError(`${name} is required`);
  if (!isOneOf(statuses, value)) throw new InvalidCallbackError(`${name} "${value.slice(0, 32)}" is not a Twilio call status`);
  return value;
}

/** Twilio's `Timestamp` (RFC 2822) as ISO 8601; undefined when absent or unparsable. */
export function parseTwilioTimestamp(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** What a callback amounts to: a missed call to record, or a status to acknowledge only. */
export type Classified = { kind: 'missed'; call: MissedCall } | { kind: 'ignored'; callSid: string; status: DialCallStatus };

/** What tells the two callbacks apart: the status parameter, the other leg's parameter, the keying. */
interface CallbackKind {
  statusParam: 'CallStatus' | 'DialCallStatus';
  statuses: readonly DialCallStatus[];
  /** `ParentCallSid` of a child leg's status callback, `DialCallSid` of a Dial action. */
  otherLegParam: 'ParentCallSid' | 'DialCallSid';
  source: Source;
  /** The root call and the legs this delivery reports. */
  legs(callSid: string, otherLeg: string | undefined): { root: string; legs: string[] };
}

function classify(params: Params, includeCanceled: boolean, kind: CallbackKind): Classified {
  const callSid = requireSid(params, 'CallSid', CALL_SID);
  const accountSid = requireSid(params, 'AccountSid', ACCOUNT_SID);
  const status = requireStatus(params, kind.statusParam, kind.statuses);
  const otherLeg = optionalSid(params, kind.otherLegParam, CALL_SID);
  const missed = missedStatus(status, includeCanceled);
  if (missed === undefined) return { kind: 'ignored', callSid, status };
  const { root, legs } = kind.legs(callSid, otherLeg);
  return {
    kind: 'missed',
    call: missedCall(legOf(params), {
      rootCallSid: root,
      legCallSids: legs,
      accountSid,
      status: missed,
      source: kind.source,
      startedAt: undefined,
      reportedAt: parseTwilioTimestamp(params.Timestamp),
    }),
  };
}

const STATUS_CALLBACK: CallbackKind = {
  statusParam: 'CallStatus',
  statuses: CALL_STATUSES,
  otherLegParam: 'ParentCallSid',
  source: 'status-callback',
  legs(callSid, parentCallSid) {
    const root = rootCallSid(callSid, parentCallSid);
    return { root, legs: root === callSid ? [callSid] : [root, callSid] };
  },
};

// `CallSid` is the parent (the customer's leg); `DialCallSid` the dialled leg, when there was one.
const DIAL_ACTION: CallbackKind = {
  statusParam: 'DialCallStatus',
  statuses: DIAL_CALL_STATUSES,
  otherLegParam: 'DialCallSid',
  source: 'dial-action',
  legs: (callSid, dialCallSid) => ({ root: callSid, legs: dialCallSid === undefined ? [callSid] : [callSid, dialCallSid] }),
};

/**
 * A status callback of any call leg (parent or `<Dial>` child).
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyStatusCallback(params: Params, includeCanceled: boolean): Classified {
  return classify(params, includeCanceled, STATUS_CALLBACK);
}

/**
 * A `<Dial action>` callback: `DialCallStatus` says whether the dialled party answered.
 * @throws InvalidCallbackError when a required parameter is missing or malformed.
 */
export function classifyDialAction(params: Params, includeCanceled: boolean): Classified {
  return classify(params, includeCanceled, DIAL_ACTION);
}
