/**
 * The call item (`CALL#<root CallSid>`): the evidence about one root call as it arrives, and the
 * outcome decided from it (lib/ledger/outcome.ts), with what the day counters hold for it.
 *
 * - Evidence: one attribute per fact, so that any order of deliveries writes the same item:
 *   `leg#<CallSid>` (a `<Dial>` leg's final status, `:machine` when a machine answered it),
 *   `dial#<DialCallSid|->` (a Dial action's `DialCallStatus`), `queue#<QueueSid>` (`QueueResult`
 *   and `:QueueTime`), `rootStatus`/`rootDuration` (the root's own end), `endedAt` (the call is
 *   known to have ended), and `ev`, a counter of evidence writes (the decision's guard).
 * - Outcome: `outcome` (`answered`, `missed`, `not-missed`; absent while undecided), with a miss's
 *   `reason`, `status`, `afterHours`, `day`, `occurredAt`, `source` (what decided it).
 * - `countedAs`: what the day counters hold for the call (`<day>|<status>|<source>|<reason>|<0|1>`).
 *   Every change of it is written in ONE transaction with the counters' difference, so the
 *   counters stay exact through duplicates and corrections.
 * - Contact work: `contactPending` while the contact must catch up with the outcome (the contacts
 *   function's filter), `contactApplied` what it applied (`contact:<E.164>` or `anonymous:<why>`).
 * - While undecided, the settle index keys (gsi1: `SETTLE#<n>`, the instant it settles).
 *
 * Items written by version 0.1.0 (a missed call put whole by the first callback that looked
 * unanswered: `status`, `source`, no `outcome`) read as decided misses counted as
 * `<day>|<status>|<source>|-|0`, with `contactAppliedAt` as their contact mark.
 */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidItemError, isOneOf, requireString, strings } from '../table/items.js';
import { callKey, callSidOfKey, settleShard } from '../table/keys.js';
import { DIAL_CALL_STATUSES, type DialCallStatus } from '../twilio/call-status.js';
import {
  type CallReport,
  customerNumber,
  type Evidence,
  lineNumber,
  MISSED_STATUSES,
  type MissedStatus,
  NO_FACTS,
  type Reach,
  SOURCES,
  type Source,
  sourceOf,
} from './calls.js';
import { addToDay, type CounterReader } from './day-counters.js';
import {
  type CallFacts,
  type LegFact,
  MISSED_REASONS,
  type MissedReason,
  type Outcome,
  opensCallback,
  QUEUE_RESULTS,
  type QueueResult,
  type RecordingFact,
  TERMINAL_STATUSES,
} from './outcome.js';

const DAY_SECONDS = 86_400;

export function isMissedStatus(value: unknown): value is MissedStatus {
  return isOneOf(MISSED_STATUSES, value);
}

/** A field that must be a missed-call status (call, contact and callback items carry them). */
export function requireMissedStatus(item: Readonly<Record<string, unknown>>, name: string): MissedStatus {
  const value = item[name];
  if (!isMissedStatus(value)) throw new InvalidItemError(`${name} is not a missed-call status`);
  return value;
}

/** A miss's reason as stored; a 0.1.0 item has none and reads as its status. */
export function reasonOf(item: Readonly<Record<string, unknown>>): MissedReason {
  const reason = item.reason;
  if (isOneOf(MISSED_REASONS, reason)) return reason;
  if (reason === undefined) return requireMissedStatus(item, 'status');
  throw new InvalidItemError('reason is not a missed-call reason');
}

// ---- evidence -----------------------------------------------------------------------------------

const LEG = 'leg#';
const DIAL = 'dial#';
const QUEUE = 'queue#';
/** `rec#<RecordingSid>` = `<status>:<seconds>:<1 a message (<Record>) | 0 a recorded conversation>`. */
const RECORDING = 'rec#';
/** `tx#<RecordingSid>` = `completed:<text>` or `failed:`. */
const TRANSCRIPT = 'tx#';

/**
 * A leg's stored value: `<status>[:machine]`, and for an answered leg with a known duration
 * `<status>:[machine]:<seconds>[:<answered epoch second>]` (the short form is 0.2.0's).
 */
function legValue(e: Extract<Evidence, { kind: 'leg' }>): string {
  const machine = e.machine ? 'machine' : '';
  if (e.durationSeconds === undefined) return machine === '' ? e.status : `${e.status}:${machine}`;
  const answered = e.answeredAt === undefined ? '' : `:${Math.floor(Date.parse(e.answeredAt) / 1000)}`;
  return `${e.status}:${machine}:${e.durationSeconds}${answered}`;
}

/** A stored leg value as the facts hold it. @throws InvalidItemError when it is malformed. */
function parseLeg(value: string): LegFact {
  const [status, machine, duration, answered] = value.split(':');
  const number = (text: string | undefined) => (text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : undefined);
  if (!isOneOf(TERMINAL_STATUSES, status) || (machine !== undefined && machine !== '' && machine !== 'machine')) {
    throw new InvalidItemError('a leg status is malformed');
  }
  const durationSeconds = number(duration);
  const answeredEpoch = number(answered);
  return {
    status,
    machine: machine === 'machine',
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(answeredEpoch === undefined ? {} : { answeredAt: new Date(answeredEpoch * 1000).toISOString() }),
  };
}

/** The attribute one piece of evidence is stored in, and its value. */
function evidenceAttribute(e: Evidence): [string, string | number][] {
  if (e.kind === 'leg') return [[`${LEG}${e.legSid}`, legValue(e)]];
  if (e.kind === 'dial') return [[`${DIAL}${e.dialSid ?? '-'}`, e.status]];
  if (e.kind === 'queue') return [[`${QUEUE}${e.queueSid}`, e.seconds === undefined ? e.result : `${e.result}:${e.seconds}`]];
  if (e.kind === 'recording') {
    return [[`${RECORDING}${e.recordingSid}`, `${e.status}:${e.durationSeconds ?? ''}:${e.voice ? '1' : '0'}`]];
  }
  if (e.kind === 'transcription') return [[`${TRANSCRIPT}${e.recordingSid}`, `${e.status}:${e.text ?? ''}`]];
  return [
    ['rootStatus', e.status],
    ...(e.durationSeconds === undefined ? [] : ([['rootDuration', e.durationSeconds]] as [string, number][])),
  ];
}

/** The facts of a call item. @throws InvalidItemError when an evidence attribute is malformed. */
export function factsOf(item: Readonly<Record<string, unknown>>): CallFacts {
  const legs = new Map<string, LegFact>();
  const recordings = new Map<string, RecordingFact>();
  const dials = new Map<string, DialCallStatus>();
  const queues = new Map<string, { result: QueueResult; seconds: number | undefined }>();
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith(LEG)) {
      legs.set(name.slice(LEG.length), parseLeg(value));
    } else if (name.startsWith(DIAL)) {
      if (!isOneOf(DIAL_CALL_STATUSES, value)) throw new InvalidItemError('a Dial status is malformed');
      dials.set(name.slice(DIAL.length), value);
    } else if (name.startsWith(RECORDING)) {
      const [status, secs, voice] = value.split(':');
      if (status !== 'completed' && status !== 'failed' && status !== 'absent')
        throw new InvalidItemError('a recording status is malformed');
      const sid = name.slice(RECORDING.length);
      const known = recordings.get(sid);
      recordings.set(sid, {
        ...(known?.transcript === undefined ? {} : { transcript: known.transcript }),
        status,
        seconds: secs === undefined || secs === '' ? undefined : Number(secs),
        voice: voice !== '0',
      });
    } else if (name.startsWith(TRANSCRIPT)) {
      const cut = value.indexOf(':');
      const status = value.slice(0, cut);
      if (cut < 0 || (status !== 'completed' && status !== 'failed')) throw new InvalidItemError('a transcription is malformed');
      const sid = name.slice(TRANSCRIPT.length);
      const known = recordings.get(sid);
      recordings.set(sid, {
        status: known?.status,
        seconds: known?.seconds,
        voice: known?.voice ?? true,
        transcript: status === 'completed' ? value.slice(cut + 1) : null,
      });
    } else if (name.startsWith(QUEUE)) {
      const [result, time] = value.split(':');
      if (!isOneOf(QUEUE_RESULTS, result)) throw new InvalidItemError('a queue result is malformed');
      queues.set(name.slice(QUEUE.length), { result, seconds: time === undefined ? undefined : Number(time) });
    }
  }
  const rootStatus = item.rootStatus;
  const root = isOneOf(TERMINAL_STATUSES, rootStatus)
    ? { status: rootStatus, durationSeconds: typeof item.rootDuration === 'number' ? item.rootDuration : undefined }
    : NO_FACTS.root;
  return { legs, dials, queues, recordings, root, ended: typeof item.endedAt === 'string', inbound: item.direction === 'inbound' };
}

/**
 * The recordings Twilio holds for a call item (`completed` recording evidence, a voicemail or
 * not): what is deleted at Twilio when the ledger forgets the call.
 * @throws InvalidItemError when an evidence attribute is malformed.
 */
export function recordingSidsOf(item: Readonly<Record<string, unknown>>): string[] {
  return [...(factsOf(item).recordings ?? new Map()).entries()].filter(([, r]) => r.status === 'completed').map(([sid]) => sid);
}

/** What the ledger needs to know of a call item, read field by field. */
export interface CallRecord {
  rootCallSid: string;
  facts: CallFacts;
  /** Evidence writes so far (the decision's guard); 0 for a 0.1.0 item. */
  ev: number;
  outcome: Outcome['outcome'];
  countedAs: string | undefined;
  /** What decided it (kept through re-decisions). */
  source: Source | undefined;
  customer: string | undefined;
  line: string | undefined;
  direction: string | undefined;
  startedAt: string | undefined;
  firstEvidenceAt: string | undefined;
  lastEvidenceAt: string | undefined;
  endedAt: string | undefined;
  /** Twilio's Timestamp of the root's end, and of the last report that had one. */
  endReportedAt: string | undefined;
  lastReportedAt: string | undefined;
  /** In the settle index (undecided, or its evidence changed since the decision). */
  settling: boolean;
  contactApplied: string | undefined;
  contactPending: string | undefined;
  /** Written by version 0.1.0: a whole missed call, decided by its first unanswered callback. */
  legacy: boolean;
}

const str = (item: Readonly<Record<string, unknown>>, name: string): string | undefined =>
  typeof item[name] === 'string' && item[name] !== '' ? (item[name] as string) : undefined;

/** @throws InvalidItemError when the item is not a call item this code can read. */
export function parseCallRecord(item: Readonly<Record<string, unknown>>): CallRecord {
  if (item.type !== 'call') throw new InvalidItemError('not a call item');
  const rootCallSid = requireString(item, 'callSid');
  const legacy = item.outcome === undefined && item.status !== undefined;
  const outcome = legacy ? 'missed' : isOneOf(['answered', 'missed', 'not-missed'] as const, item.outcome) ? item.outcome : 'undecided';
  const source = item.source === undefined ? undefined : sourceOf(item.source);
  if (item.source !== undefined && source === undefined) throw new InvalidItemError('source is not a known source');
  const legacyCounted = legacy
    ? `${requireString(item, 'day')}|${requireMissedStatus(item, 'status')}|${String(item.source)}|-|0`
    : undefined;
  // A 0.1.0 mark (contactAppliedAt without contactApplied) stays a mark once the item is decided again.
  const legacyContact =
    item.contactApplied === undefined && typeof item.contactAppliedAt === 'string'
      ? (str(item, 'contactOutcome') ?? 'contact:')
      : undefined;
  return {
    rootCallSid,
    facts: factsOf(item),
    ev: typeof item.ev === 'number' ? item.ev : 0,
    outcome,
    countedAs: str(item, 'countedAs') ?? legacyCounted,
    source,
    customer: str(item, 'customer'),
    line: str(item, 'line'),
    direction: str(item, 'direction'),
    startedAt: str(item, 'startedAt'),
    firstEvidenceAt: str(item, 'firstEvidenceAt') ?? str(item, 'occurredAt'),
    lastEvidenceAt: str(item, 'lastEvidenceAt'),
    endedAt: str(item, 'endedAt'),
    endReportedAt: str(item, 'endReportedAt'),
    lastReportedAt: str(item, 'lastReportedAt'),
    settling: typeof item.gsi1pk === 'string',
    contactApplied: str(item, 'contactApplied') ?? legacyContact,
    contactPending: str(item, 'contactPending'),
    legacy,
  };
}

export interface EvidenceWriteOptions {
  tableName: string;
  retentionDays: number;
  /** When the call settles if no more evidence comes (undefined: the write leaves the settle keys alone). */
  settleAt: Date | undefined;
  /** Also record the call as answered (no counters to change: only while nothing is counted). */
  answered: boolean;
}

/**
 * The one write that records a report's evidence (idempotent: a repeated report sets the same
 * attributes), returning the whole item. The root's numbers are kept from the first report that
 * has them. With `answered`, it also decides the call answered, on condition that nothing is
 * counted for it (a counted miss needs a correction instead: the caller writes without `answered`).
 */
export function evidenceUpdate(report: CallReport, now: Date, options: EvidenceWriteOptions): UpdateCommandInput {
  const names: Record<string, string> = { '#type': 'type' };
  const values: Record<string, unknown> = {
    ':call': 'call',
    ':root': report.rootCallSid,
    ':account': report.accountSid,
    ':now': now.toISOString(),
    ':first': report.reportedAt ?? now.toISOString(),
    ':ttl': Math.floor(now.getTime() / 1000) + options.retentionDays * DAY_SECONDS,
    ':one': 1,
  };
  const sets = [
    '#type = :call',
    'callSid = :root',
    'accountSid = if_not_exists(accountSid, :account)',
    'firstEvidenceAt = if_not_exists(firstEvidenceAt, :first)',
    'lastEvidenceAt = :now',
    'recordedAt = if_not_exists(recordedAt, :now)',
    // TTL: DynamoDB deletes the item (within a day or two) after this epoch second.
    'expiresAt = if_not_exists(expiresAt, :ttl)',
  ];
  const keep = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = if_not_exists(#${name}, :${name})`);
  };
  if (report.root !== undefined) {
    keep('direction', report.root.direction || undefined);
    keep('from', report.root.from || undefined);
    keep('to', report.root.to || undefined);
    keep('customer', customerNumber(report.root));
    keep('line', lineNumber(report.root));
  }
  keep('startedAt', report.startedAt);
  if (report.reached !== undefined) {
    values[':reached'] = JSON.stringify(report.reached);
    sets.push('reached = :reached');
  }
  report.evidence.flatMap(evidenceAttribute).forEach(([name, value], i) => {
    names[`#e${i}`] = name;
    values[`:e${i}`] = value;
    sets.push(`#e${i} = :e${i}`);
  });
  if (report.ends) sets.push('endedAt = if_not_exists(endedAt, :now)');
  // Twilio keeps media of this call: when the ledger forgets the call (TTL, erasure), the events
  // function's filter lets its REMOVE through, and its recordings are deleted at Twilio.
  if (report.evidence.some((e) => e.kind === 'recording' && e.status === 'completed')) {
    sets.push('recordingSeenAt = if_not_exists(recordingSeenAt, :now)');
  }
  // Twilio's own times: when the call was known to have ended (a late apply asks Twilio what came since).
  if (report.reportedAt !== undefined) {
    values[':reported'] = report.reportedAt;
    sets.push('lastReportedAt = :reported');
    if (report.ends) sets.push('endReportedAt = if_not_exists(endReportedAt, :reported)');
  }
  const removes: string[] = [];
  let condition: string | undefined;
  if (options.answered) {
    values[':answered'] = 'answered';
    sets.push('outcome = :answered', 'decidedAt = if_not_exists(decidedAt, :now)');
    removes.push('gsi1pk', 'gsi1sk');
    condition = 'attribute_not_exists(countedAs) AND attribute_not_exists(#status)';
    names['#status'] = 'status';
    // A Dial action's answer holds only while its leg is not known to have been a machine.
    const dial = report.evidence.find((e) => e.kind === 'dial');
    if (dial?.kind === 'dial' && dial.dialSid !== undefined) {
      names['#dialLeg'] = `${LEG}${dial.dialSid}`;
      values[':machine'] = ':machine';
      condition += ' AND (attribute_not_exists(#dialLeg) OR NOT contains(#dialLeg, :machine))';
    }
  } else if (options.settleAt !== undefined) {
    values[':settlePk'] = settleShard(report.rootCallSid);
    values[':settleAt'] = options.settleAt.toISOString();
    sets.push('gsi1pk = :settlePk', 'gsi1sk = :settleAt');
  }
  // An erased call's tombstone (lib/operator/erase.ts) takes no evidence: a late callback, or the
  // reconciliation, cannot bring the erased caller back.
  condition = condition === undefined ? 'attribute_not_exists(erasedAt)' : `${condition} AND attribute_not_exists(erasedAt)`;
  const adds = ['ev :one'];
  if (report.legCallSids.length > 0) {
    values[':legs'] = new Set(report.legCallSids);
    adds.push('legSids :legs');
  }
  return {
    TableName: options.tableName,
    Key: { pk: callKey(report.rootCallSid) },
    UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ...(condition === undefined ? {} : { ConditionExpression: condition }),
    ReturnValues: 'ALL_NEW',
  };
}

// ---- what the counters hold -----------------------------------------------------------------

/** What the day counters hold for a counted miss. */
export interface Counted {
  day: string;
  status: MissedStatus;
  source: Source | string;
  /** `-` for a 0.1.0 item, counted without a reason. */
  reason: MissedReason | '-';
  afterHours: boolean;
}

export const countedKey = (c: Counted): string => `${c.day}|${c.status}|${c.source}|${c.reason}|${c.afterHours ? 1 : 0}`;

export function parseCounted(key: string): Counted {
  const [day = '', status, source = '', reason, afterHours] = key.split('|');
  if (!isMissedStatus(status) || !(reason === '-' || isOneOf(MISSED_REASONS, reason)) || day === '') {
    throw new InvalidItemError('countedAs is malformed');
  }
  return { day, status, source, reason, afterHours: afterHours === '1' };
}

/** The counters one counted miss adds: `total`, `status:`, `source:`, `reason:`, `afterHours`. */
export function missedCallCounters(c: Counted): Map<string, number> {
  const counters = new Map<string, number>([
    ['total', 1],
    [`status:${c.status}`, 1],
    [`source:${c.source}`, 1],
  ]);
  if (c.reason !== '-') counters.set(`reason:${c.reason}`, 1);
  if (c.afterHours) counters.set('afterHours', 1);
  return counters;
}

/** The counters' updates that move a call from what was counted to what is to be counted. */
export function countChange(tableName: string, before: string | undefined, after: string | undefined, now: string, seed: string) {
  const byDay = new Map<string, Map<string, number>>();
  const add = (key: string | undefined, sign: number) => {
    if (key === undefined) return;
    const counted = parseCounted(key);
    const counters = byDay.get(counted.day) ?? new Map<string, number>();
    for (const [name, n] of missedCallCounters(counted)) counters.set(name, (counters.get(name) ?? 0) + sign * n);
    byDay.set(counted.day, counters);
  };
  add(before, -1);
  add(after, 1);
  return [...byDay]
    .map(([day, counters]) => [day, new Map([...counters].filter(([, n]) => n !== 0))] as const)
    .filter(([, counters]) => counters.size > 0)
    .map(([day, counters]) => ({ Update: addToDay(tableName, day, counters, now, seed) }));
}

/** What the call counters of a day say. */
export interface CallDayCounts {
  totals: { total: number } & Record<MissedStatus, number>;
  bySource: Record<Source, number>;
  byReason: Record<MissedReason, number>;
  /** Misses outside BUSINESS_HOURS (when set). */
  afterHours: number;
}

export function callDayCounts(count: CounterReader): CallDayCounts {
  const status = (s: MissedStatus) => count(`status:${s}`);
  const bySource = {} as Record<Source, number>;
  for (const source of SOURCES) bySource[source] = count(`source:${source}`);
  // Counted as `source:webhook` by version 0.1.0.
  bySource['status-callback'] += count('source:webhook');
  const byReason = {} as Record<MissedReason, number>;
  for (const reason of MISSED_REASONS) byReason[reason] = count(`reason:${reason}`);
  return {
    totals: {
      total: count('total'),
      'no-answer': status('no-answer'),
      busy: status('busy'),
      failed: status('failed'),
      canceled: status('canceled'),
    },
    bySource,
    byReason,
    afterHours: count('afterHours'),
  };
}

// ---- the contacts' view -----------------------------------------------------------------------

/** A miss the contacts function applies to its caller's contact, or takes back from it. */
export interface PendingCall {
  rootCallSid: string;
  /** `apply`: the call is a miss the contact does not have yet; `retract`: the contact has a miss that is no more. */
  action: 'apply' | 'retract';
  customer: string;
  /** The Twilio number the customer tried; '' when unknown. */
  line: string;
  /** The miss's status (for `retract`: as it was applied). */
  status: MissedStatus;
  reason: MissedReason;
  occurredAt: string;
  day: string;
  /** When the miss could first be known (its decision; its last evidence when it settled): a later apply asks Twilio. */
  knownAt: string;
  /** The token of the work asked for (`contactPending`); undefined for a 0.1.0 item. */
  token: string | undefined;
  /** What the contacts function applied before (`contact:<E.164>:<status>`, `anonymous:<why>`). */
  applied: string | undefined;
  /** The reconciliation's answered calls with the number since the miss; undefined: not looked for. */
  reached: Reach[] | undefined;
  /** The message the caller left (`apply` only). */
  voicemail?: Voicemail;
}

/** The reaches a call item carries (`reached`, JSON), or undefined when none were looked for. */
function parseReached(value: unknown): Reach[] | undefined {
  if (typeof value !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidItemError('reached is malformed');
  }
  if (!Array.isArray(parsed)) throw new InvalidItemError('reached is malformed');
  return parsed.map((r: unknown) => {
    if (typeof r !== 'object' || r === null) throw new InvalidItemError('reached is malformed');
    const entry = r as Record<string, unknown>;
    const by = entry.by;
    if (by !== 'callback' && by !== 'returned-call') throw new InvalidItemError('reached is malformed');
    return { id: requireString(entry, 'id'), at: requireString(entry, 'at'), by };
  });
}

/**
 * The contact work a call item asks for: a miss to apply or take back, an applied miss's voicemail
 * to bring up to date (a transcript, or a message, came after the miss was applied), or only its
 * mark to clear.
 */
export type ContactWork =
  | PendingCall
  | { action: 'voicemail'; rootCallSid: string; token: string; customer: string; voicemail: Voicemail }
  | { action: 'clear'; rootCallSid: string; token: string };

/** The status a contact mark says was applied (`contact:<E.164>:<status>`; a 0.1.0 mark has none). */
export const appliedStatus = (applied: string | undefined): MissedStatus | undefined => {
  const status = applied?.split(':')[2];
  return isMissedStatus(status) ? status : undefined;
};

/**
 * The contact work in a call item, or undefined when it needs none.
 * @throws InvalidItemError when a call item is malformed.
 */
export function parsePendingCall(item: Readonly<Record<string, unknown>>): ContactWork | undefined {
  if (item.type !== 'call' || item.customer === undefined) return undefined;
  const record = parseCallRecord(item);
  // 0.1.0: a missed call not applied yet. Later: whatever `contactPending` asks for.
  if (record.legacy ? record.contactApplied !== undefined : record.contactPending === undefined) return undefined;
  const wanted = record.legacy || (record.outcome === 'missed' && record.countedAs !== undefined && opensCallback(reasonOf(item)));
  const token = record.contactPending;
  if (wanted === (record.contactApplied !== undefined)) {
    if (token === undefined) return undefined;
    const voicemail = parseVoicemail(item.voicemail);
    if (wanted && voicemail !== undefined && record.contactApplied?.startsWith('contact:')) {
      const customer = requireString(item, 'customer');
      return { action: 'voicemail', rootCallSid: record.rootCallSid, token, customer, voicemail };
    }
    return { action: 'clear', rootCallSid: record.rootCallSid, token };
  }
  const occurredAt = str(item, 'occurredAt') ?? record.firstEvidenceAt ?? '';
  if (Number.isNaN(Date.parse(occurredAt))) throw new InvalidItemError('occurredAt is not a timestamp');
  const status = wanted
    ? requireMissedStatus(item, 'status')
    : (appliedStatus(record.contactApplied) ?? (isMissedStatus(item.status) ? item.status : 'no-answer'));
  return {
    rootCallSid: record.rootCallSid,
    action: wanted ? 'apply' : 'retract',
    customer: requireString(item, 'customer'),
    line: record.line ?? '',
    status,
    reason: wanted ? reasonOf(item) : status,
    occurredAt,
    day: str(item, 'day') ?? occurredAt.slice(0, 10),
    knownAt: str(item, 'knownAt') ?? occurredAt,
    token,
    applied: record.contactApplied,
    reached: parseReached(item.reached),
    ...(wanted ? voicemailField(item.voicemail) : {}),
  };
}

// ---- reads --------------------------------------------------------------------------------------

/** What the reconciliation needs to know of a recorded call (projection `KNOWN_CALL_PROJECTION`). */
export interface KnownCall {
  hasCustomer: boolean;
  legSids: ReadonlySet<string>;
  /** Decided, and with the root's end known (or answered): nothing listed can change it but a leg it has not seen. */
  decided: boolean;
  /** A person answered it. */
  answered: boolean;
}
export const KNOWN_CALL_PROJECTION = 'pk, customer, legSids, outcome, endedAt, #status, gsi1pk';

/** A call item read with `KNOWN_CALL_PROJECTION`: its root CallSid and what is known of it. */
export function parseKnownCall(item: Readonly<Record<string, unknown>>): { rootCallSid: string; known: KnownCall } {
  const legacy = item.outcome === undefined && item.status !== undefined;
  return {
    rootCallSid: callSidOfKey(requireString(item, 'pk')),
    known: {
      hasCustomer: typeof item.customer === 'string',
      legSids: new Set(strings(item.legSids)),
      // Ended and out of the settle index: decided (a call TwiML alone handled keeps no outcome).
      decided: legacy || item.outcome === 'answered' || (typeof item.endedAt === 'string' && item.gsi1pk === undefined),
      answered: item.outcome === 'answered',
    },
  };
}

/** A contact's missed call as `GET /contacts/{phone}` shows it. */
export interface CallSummary {
  callSid: string;
  status: MissedStatus;
  reason: MissedReason;
  afterHours: boolean;
  occurredAt: string;
  source: Source;
  direction: string;
  /** The message the caller left (`<Record>`), with its transcript when one came. */
  voicemail?: Voicemail;
}

/** A voicemail as the call item keeps it with its miss. */
export interface Voicemail {
  recordingSid: string;
  durationSeconds: number;
  transcript?: string;
}

/** The `voicemail` attribute of a call item; undefined when absent or malformed (a warning is not worth failing a read). */
export function parseVoicemail(value: unknown): Voicemail | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.recordingSid !== 'string' || typeof v.durationSeconds !== 'number') return undefined;
  return {
    recordingSid: v.recordingSid,
    durationSeconds: v.durationSeconds,
    ...(typeof v.transcript === 'string' ? { transcript: v.transcript } : {}),
  };
}

/** `{ voicemail }` when the value is a voicemail, else `{}`: to spread into what is read. */
export function voicemailField(value: unknown): { voicemail?: Voicemail } {
  const voicemail = parseVoicemail(value);
  return voicemail === undefined ? {} : { voicemail };
}

export const CALL_SUMMARY_PROJECTION = {
  ProjectionExpression: 'callSid, #status, reason, afterHours, occurredAt, #source, direction, outcome, voicemail',
  ExpressionAttributeNames: { '#status': 'status', '#source': 'source' },
};

/** @throws InvalidItemError when the item is not a missed call as recorded. */
export function parseCallSummary(item: Readonly<Record<string, unknown>>): CallSummary {
  const source = sourceOf(item.source);
  if (source === undefined) throw new InvalidItemError('source is not a known source');
  if (item.outcome !== undefined && item.outcome !== 'missed') throw new InvalidItemError('not a missed call');
  return {
    callSid: requireString(item, 'callSid'),
    status: requireMissedStatus(item, 'status'),
    reason: reasonOf(item),
    afterHours: item.afterHours === true,
    occurredAt: requireString(item, 'occurredAt'),
    source,
    direction: typeof item.direction === 'string' ? item.direction : '',
    ...voicemailField(item.voicemail),
  };
}

/** What the call events say of a call item (the fields it has). */
export type CallFact = { callSid: string } & Partial<
  Pick<CallSummary, 'status' | 'reason' | 'afterHours' | 'occurredAt' | 'source' | 'direction'> & {
    day: string;
    customer: string;
    line: string;
    from: string;
    to: string;
  }
>;

/** @throws InvalidItemError when the item has no root CallSid. */
export function parseCallFact(item: Readonly<Record<string, unknown>>): CallFact {
  const fact: CallFact = { callSid: requireString(item, 'callSid') };
  for (const name of ['occurredAt', 'day', 'customer', 'line', 'from', 'to', 'direction'] as const) {
    const value = str(item, name);
    if (value !== undefined) fact[name] = value;
  }
  if (isMissedStatus(item.status)) fact.status = item.status;
  if (item.reason !== undefined || item.status !== undefined) fact.reason = reasonOf(item);
  const source = sourceOf(item.source);
  if (source !== undefined) fact.source = source;
  if (item.afterHours === true) fact.afterHours = true;
  return fact;
}

/** Whether a stream image of a call item is a counted miss. */
export const isCountedMiss = (image: Readonly<Record<string, unknown>> | undefined): boolean =>
  image?.type === 'call' && (typeof image.countedAs === 'string' || (image.outcome === undefined && image.status !== undefined));
