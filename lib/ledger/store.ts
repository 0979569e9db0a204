/**
 * The ledger store: every callback's evidence recorded on its root call's item as it arrives
 * (one UpdateItem, idempotent), and the outcome decided from the whole of it (outcome.ts) as
 * soon as the call is known to have ended, or `settleSeconds` after its last evidence (the
 * settle sweep). A decision that changes what the day counters hold is written in ONE
 * transaction with the counters' difference, guarded by the item's evidence count (`ev`): a
 * decision made from evidence that has changed since is made again from the new evidence. So any
 * order of deliveries, duplicates and late evidence ends with the same outcome and exact counts.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { HoursRule } from '../platform/hours.js';
import { isOpen } from '../platform/hours.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { TableUnavailableError } from '../table/items.js';
import { callKey, settleShard } from '../table/keys.js';
import { batchGetAll, cancellationCodes, RETRYABLE_REASONS } from '../table/requests.js';
import {
  type CallRecord,
  countChange,
  countedKey,
  evidenceUpdate,
  factsOf,
  KNOWN_CALL_PROJECTION,
  type KnownCall,
  parseCallRecord,
  parseKnownCall,
  reasonOf,
} from './call-item.js';
import { type CallReport, NO_FACTS, type Source, withEvidence } from './calls.js';
import {
  decideOutcome,
  isAnswered,
  type MissedReason,
  type Outcome,
  type OutcomeSettings,
  opensCallback,
  VOICEMAIL_MIN_SECONDS,
  voicemailOf,
} from './outcome.js';

export interface RecordResult {
  /** The call's outcome after this report (`undecided` while it may still be answered). */
  outcome: Outcome['outcome'];
  reason?: MissedReason;
  /** What this report changed of the day counters: a miss counted, taken back, or moved. */
  counted: 'new' | 'removed' | 'changed' | 'unchanged';
  /** DynamoDB requests this report made (writes and reads), for the benchmark. */
  requests: { reads: number; writes: number };
  /**
   * An inbound call from a known caller that a person answered on a `<Dial>` leg no Dial action
   * reported (a hunt's last `<Dial>`, a simultaneous ring): given by the report that completes
   * what is known of it (the leg's end, or the root's with its caller), so that the webhook
   * resolves the caller's open callback with it. A Dial action resolves its own leg.
   */
  returned?: ReturnedCall;
  /** The call was erased (`DELETE /contacts/{phone}`): this report was refused, nothing written. */
  erased?: true;
}

/** The leg of an inbound call that a person answered, and the caller. */
export interface ReturnedCall {
  /** The caller's number (the root's `From`, as the item keeps it). */
  customer: string;
  legSid: string;
  durationSeconds: number;
  /** When the leg was answered, when its callback said. */
  answeredAt: string | undefined;
}

export interface RecordOptions {
  /** How long after this evidence the call settles if nothing else comes (default: OUTCOME_SETTLE_SECONDS). */
  settleAfterSeconds?: number;
}

export interface Ledger {
  /** Records what one callback (or the reconciliation) reports, and decides what it can. */
  record(report: CallReport, now?: Date, options?: RecordOptions): Promise<RecordResult>;
  /** Decides a call that had no final callback, once its settle time has passed (the sweep). */
  settle(rootCallSid: string, now?: Date): Promise<RecordResult & { due: boolean }>;
}

/** The ledger as the reconciliation uses it: it also asks which calls are recorded already. */
export interface ReconcileLedger extends Ledger {
  /** The recorded calls among `rootCallSids` (BatchGetItem, 100 keys a request). */
  find(rootCallSids: readonly string[]): Promise<Map<string, KnownCall>>;
}

export interface LedgerSettings extends OutcomeSettings {
  /** `OUTCOME_SETTLE_SECONDS`: a call with no final callback is decided this long after its last evidence. */
  settleSeconds: number;
  /** `BUSINESS_HOURS` in `TIME_ZONE`: a miss outside them is `afterHours` (none: never). */
  hours: { rules: readonly HoursRule[]; timeZone: string } | undefined;
}

export interface LedgerOptions {
  tableName: string;
  retentionDays: number;
  settings: LedgerSettings;
  /** Attempts for a decision that lost a race or was throttled (default 8). */
  maxAttempts?: number;
  /** Backoff sleep, replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** The outcome fields a decision writes on the call item. */
interface Decided {
  outcome: Exclude<Outcome['outcome'], 'undecided'>;
  countedAs: string | undefined;
  fields: Record<string, unknown>;
  /** The contact must catch up (a miss to apply or take back). */
  contactWork: boolean;
}

const isConditionFailure = (error: unknown): boolean =>
  (error instanceof Error && error.name === 'ConditionalCheckFailedException') ||
  (error instanceof TransactionCanceledException && cancellationCodes(error)[0] === 'ConditionalCheckFailed');

/** Equal values; a flat map equal whatever the order of its keys (DynamoDB keeps none). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return JSON.stringify(a, keys) === JSON.stringify(b, keys);
}

/** The returned call an answered call's item shows, when `report` brings its leg or its caller. */
function returnedCall(item: Record<string, unknown>, report: CallReport): ReturnedCall | undefined {
  if (item.direction !== 'inbound' || typeof item.customer !== 'string') return undefined;
  const bringsLeg = report.evidence.some((e) => e.kind === 'leg' && e.status === 'completed' && !e.machine);
  if (!bringsLeg && report.root === undefined) return undefined;
  const facts = factsOf(item);
  let best: ReturnedCall | undefined;
  for (const [legSid, leg] of facts.legs) {
    if (leg.status !== 'completed' || leg.machine || leg.durationSeconds === undefined) continue;
    const dial = facts.dials.get(legSid);
    if (dial === 'completed' || dial === 'answered') continue;
    if (best === undefined || leg.durationSeconds > best.durationSeconds) {
      best = { customer: item.customer, legSid, durationSeconds: leg.durationSeconds, answeredAt: leg.answeredAt };
    }
  }
  return best;
}

/** The ledger on DynamoDB. */
export function createLedger(client: DynamoDBDocumentClient, options: LedgerOptions): Ledger {
  const { tableName, settings } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  async function read(rootCallSid: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(rootCallSid) }, ConsistentRead: true }));
      return out.Item;
    } catch (error) {
      throw new TableUnavailableError('The ledger table could not be read', { cause: error });
    }
  }

  async function update(input: UpdateCommandInput): Promise<Record<string, unknown> | undefined> {
    try {
      return (await client.send(new UpdateCommand(input))).Attributes;
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw new TableUnavailableError('The ledger table could not be written', { cause: error });
    }
  }

  /** What the record's evidence decides, or undefined while it is undecided. */
  function decision(record: CallRecord, settled: boolean, source: Source, now: Date): Decided | undefined {
    const facts = settled ? { ...record.facts, ended: true } : record.facts;
    // A 0.1.0 miss stays as it was counted unless a person is now known to have answered (its
    // count kept as it is, and the item out of the settle index).
    if (record.legacy && !isAnswered(facts)) {
      return record.settling ? { outcome: 'missed', countedAs: record.countedAs, fields: {}, contactWork: false } : undefined;
    }
    const out = decideOutcome(facts, settings);
    if (out.outcome === 'undecided') return undefined;
    const decidedSource = record.source ?? source;
    const occurredAt = record.startedAt ?? record.firstEvidenceAt ?? now.toISOString();
    // When the miss could first be known, by Twilio's clock where it says: the root's end, else
    // the last report (a settled call: its last evidence). An apply much later asks Twilio what came since.
    const knownAt = record.endReportedAt ?? record.lastReportedAt ?? (settled ? record.lastEvidenceAt : undefined) ?? now.toISOString();
    if (out.outcome !== 'missed') {
      return {
        outcome: out.outcome,
        countedAs: undefined,
        fields: { outcome: out.outcome },
        contactWork: record.contactApplied !== undefined,
      };
    }
    const afterHours = settings.hours !== undefined && !isOpen(settings.hours.rules, settings.hours.timeZone, new Date(occurredAt));
    const day = occurredAt.slice(0, 10);
    // The message the caller left, if any: shown with the miss (its transcript when one came).
    const message = voicemailOf(facts, settings.voicemailMinSeconds ?? VOICEMAIL_MIN_SECONDS);
    const voicemail =
      message === undefined
        ? {}
        : {
            voicemail: {
              recordingSid: message.recordingSid,
              durationSeconds: message.durationSeconds,
              ...(typeof message.transcript === 'string' ? { transcript: message.transcript } : {}),
            },
          };
    const countedAs = countedKey({ day, status: out.status, source: decidedSource, reason: out.reason, afterHours });
    const wanted = opensCallback(out.reason);
    return {
      outcome: 'missed',
      countedAs,
      fields: {
        outcome: 'missed',
        reason: out.reason,
        status: out.status,
        afterHours,
        day,
        occurredAt,
        source: decidedSource,
        knownAt,
        ...voicemail,
      },
      contactWork: wanted !== (record.contactApplied !== undefined),
    };
  }

  /**
   * A miss its caller's contact has already that now has another voicemail (a message, or its
   * transcript, came after the miss was applied): the contact's callback shows it too.
   */
  function withVoicemailWork(item: Record<string, unknown>, record: CallRecord, d: Decided | undefined): Decided | undefined {
    if (d?.outcome !== 'missed' || d.contactWork || !record.contactApplied?.startsWith('contact:')) return d;
    return sameValue(item.voicemail, d.fields.voicemail) ? d : { ...d, contactWork: true };
  }

  /** Whether the item already says what `d` decides. */
  function unchanged(item: Record<string, unknown>, record: CallRecord, d: Decided): boolean {
    if (record.settling || d.countedAs !== record.countedAs) return false;
    if (d.contactWork && record.contactPending === undefined) return false;
    // A call TwiML alone handled needs no outcome written: absent and not settling is not missed.
    if (d.outcome === 'not-missed' && item.outcome === undefined) return true;
    return Object.entries(d.fields).every(([name, value]) => name === 'knownAt' || name === 'source' || sameValue(item[name], value));
  }

  /** Writes a decision: the item's outcome and, when what is counted changes, the counters' difference. */
  async function write(record: CallRecord, d: Decided, settled: boolean, now: Date): Promise<void> {
    const at = now.toISOString();
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': at };
    const sets: string[] = ['decidedAt = if_not_exists(decidedAt, :now)'];
    Object.entries(d.fields).forEach(([name, value], i) => {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      // The first decision's source and the instant the miss was known stay as they were.
      sets.push(name === 'source' || name === 'knownAt' ? `#f${i} = if_not_exists(#f${i}, :f${i})` : `#f${i} = :f${i}`);
    });
    const removes = ['gsi1pk', 'gsi1sk'];
    if (d.countedAs === undefined) removes.push('countedAs');
    else {
      values[':counted'] = d.countedAs;
      sets.push('countedAs = :counted');
    }
    if (d.outcome !== 'missed') removes.push('reason', 'afterHours', 'voicemail');
    if (settled) sets.push('endedAt = if_not_exists(endedAt, :now)', 'settledAt = :now');
    // Contact work asked for by an earlier decision gets a new token too: the contacts function
    // then does only what the latest decision asks (work read from an older record fails its condition).
    if (d.contactWork || record.contactPending !== undefined) {
      values[':pending'] = `${record.ev}@${at}`;
      sets.push('contactPending = :pending');
    }
    // Decided from the evidence as read: any evidence written since, or another decision, fails it.
    // Decided from what was counted as read, too: two decisions made from the same evidence (a
    // decision does not change `ev`) cannot both change the counters.
    let condition: string;
    const countedBefore = record.countedAs === undefined ? 'attribute_not_exists(countedAs)' : 'countedAs = :countedBefore';
    if (record.countedAs !== undefined) values[':countedBefore'] = record.countedAs;
    if (record.legacy) condition = `attribute_not_exists(outcome) AND (attribute_not_exists(countedAs) OR ${countedBefore})`;
    else {
      values[':ev'] = record.ev;
      condition = `ev = :ev AND ${countedBefore}`;
    }
    const call = {
      TableName: tableName,
      Key: { pk: callKey(record.rootCallSid) },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.map((_, i) => `#r${i}`).join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: { ...names, ...Object.fromEntries(removes.map((name, i) => [`#r${i}`, name])) },
      ExpressionAttributeValues: values,
    } satisfies UpdateCommandInput;
    const counters = countChange(tableName, record.countedAs, d.countedAs, at, record.rootCallSid);
    if (counters.length === 0) {
      await update(call);
      return;
    }
    try {
      await client.send(new TransactWriteCommand({ TransactItems: [{ Update: call }, ...counters] }));
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      if (error instanceof TransactionCanceledException && cancellationCodes(error).some((code) => RETRYABLE_REASONS.has(code)))
        throw error;
      throw new TableUnavailableError('The ledger transaction failed', { cause: error });
    }
  }

  /**
   * Decides from the item as it is, and again from a fresh read whenever the item changed
   * under the decision. Returns the outcome that holds and what changed of the counters.
   */
  async function decide(
    first: Record<string, unknown>,
    source: Source,
    now: Date,
    settled: boolean,
    requests: RecordResult['requests'],
  ): Promise<RecordResult> {
    let item: Record<string, unknown> | undefined = first;
    for (let attempt = 1; ; attempt++) {
      if (item === undefined) return { outcome: 'undecided', counted: 'unchanged', requests };
      const record = parseCallRecord(item);
      const d = withVoicemailWork(item, record, decision(record, settled, source, now));
      if (d === undefined) return { outcome: record.outcome, ...reasonField(item, record), counted: 'unchanged', requests };
      if (unchanged(item, record, d)) return { outcome: d.outcome, ...reasonField(item, record), counted: 'unchanged', requests };
      try {
        await write(record, d, settled, now);
        requests.writes += 1;
        const counted =
          d.countedAs === record.countedAs
            ? 'unchanged'
            : record.countedAs === undefined
              ? 'new'
              : d.countedAs === undefined
                ? 'removed'
                : 'changed';
        return { outcome: d.outcome, ...(d.outcome === 'missed' ? { reason: d.fields.reason as MissedReason } : {}), counted, requests };
      } catch (error) {
        requests.writes += 1;
        if (!isConditionFailure(error) && !(error instanceof TransactionCanceledException)) throw error;
        if (attempt >= maxAttempts) throw new TableUnavailableError('The call kept changing while it was decided', { cause: error });
        if (!isConditionFailure(error)) await sleep(backoffMs(attempt));
        item = await read(record.rootCallSid);
        requests.reads += 1;
      }
    }
  }

  const reasonField = (item: Record<string, unknown>, record: CallRecord): { reason?: MissedReason } =>
    record.outcome === 'missed' ? { reason: reasonOf(item) } : {};

  /** Whether a report alone shows that a person answered. */
  const answers = (report: CallReport) => isAnswered(withEvidence(NO_FACTS, report.evidence, false));

  return {
    async record(report, now = new Date(), recordOptions = {}) {
      const requests = { reads: 0, writes: 0 };
      if (report.evidence.length === 0 && !report.ends) return { outcome: 'undecided', counted: 'unchanged', requests };
      const base = { tableName, retentionDays: options.retentionDays };
      if (answers(report)) {
        // The common case costs one write: the evidence and the answer, while nothing is counted
        // (and the Dial action's leg is not known to be a machine).
        try {
          const answered = await update(evidenceUpdate(report, now, { ...base, settleAt: undefined, answered: true }));
          requests.writes += 1;
          const returned = answered === undefined ? undefined : returnedCall(answered, report);
          return { outcome: 'answered', counted: 'unchanged', requests, ...(returned === undefined ? {} : { returned }) };
        } catch (error) {
          requests.writes += 1;
          if (!isConditionFailure(error)) throw error;
          // A miss is counted, or the leg was a machine: written as any other, and decided from all of it.
        }
      }
      // Every fact is kept, whatever arrives after it: the root's end too (its number and its
      // duration), since a leg's callback may come later. A report that ends the call decides it
      // now; any other waits in the settle index.
      const settleAt = report.ends
        ? undefined
        : new Date(now.getTime() + (recordOptions.settleAfterSeconds ?? settings.settleSeconds) * 1000);
      let item: Record<string, unknown> | undefined;
      try {
        item = await update(evidenceUpdate(report, now, { ...base, settleAt, answered: false }));
        requests.writes += 1;
      } catch (error) {
        requests.writes += 1;
        // The only condition of this write: the call was erased (its caller asked). Nothing is kept.
        if (isConditionFailure(error)) return { outcome: 'undecided', counted: 'unchanged', requests, erased: true };
        throw error;
      }
      if (item === undefined) throw new TableUnavailableError('The ledger table returned no item');
      try {
        const result = await decide(item, report.source, now, false, requests);
        const returned = result.outcome === 'answered' ? returnedCall(item, report) : undefined;
        return returned === undefined ? result : { ...result, returned };
      } catch (error) {
        // An ended call whose decision failed is left to the settle sweep (best effort: the
        // table took the evidence a moment ago), never ended, undecided and out of every index.
        if (report.ends && error instanceof TableUnavailableError) {
          await client
            .send(
              new UpdateCommand({
                TableName: tableName,
                Key: { pk: callKey(report.rootCallSid) },
                UpdateExpression: 'SET gsi1pk = :pk, gsi1sk = :at',
                ConditionExpression: 'attribute_not_exists(outcome) AND attribute_not_exists(countedAs)',
                ExpressionAttributeValues: {
                  ':pk': settleShard(report.rootCallSid),
                  ':at': new Date(now.getTime() + settings.settleSeconds * 1000).toISOString(),
                },
              }),
            )
            .catch(() => undefined);
        }
        throw error;
      }
    },

    async settle(rootCallSid, now = new Date()) {
      const requests = { reads: 1, writes: 0 };
      const item = await read(rootCallSid);
      const due = item !== undefined && typeof item.gsi1sk === 'string' && Date.parse(item.gsi1sk) <= now.getTime();
      if (item === undefined || !due) return { outcome: 'undecided', counted: 'unchanged', requests, due: false };
      return { ...(await decide(item, 'settle', now, true, requests)), due: true };
    },
  };
}

/** The ledger with `find` (the webhook's bundle leaves `find` and its batch reads out). */
export function createReconcileLedger(client: DynamoDBDocumentClient, options: LedgerOptions): ReconcileLedger {
  const { tableName, maxAttempts, sleep } = options;
  return {
    ...createLedger(client, options),
    async find(rootCallSids) {
      const keys = [...new Set(rootCallSids)].map((sid) => ({ pk: callKey(sid) }));
      const items = await batchGetAll(client, tableName, keys, {
        what: 'The ledger table',
        maxAttempts,
        sleep,
        read: { ProjectionExpression: KNOWN_CALL_PROJECTION, ExpressionAttributeNames: { '#status': 'status' }, ConsistentRead: true },
      });
      return new Map(
        items.map((item) => {
          const { rootCallSid, known } = parseKnownCall(item);
          return [rootCallSid, known];
        }),
      );
    },
  };
}
