/**
 * The `CALLING#<E.164>` item: a customer's call-back attempts through Twilio (each with the facts
 * its callbacks brought and its outcome) and the claim of whoever is calling them. Apart from the
 * contact item, so that the contacts function's and the resolver's writes of the contact never
 * race with a call in progress. Every write is conditional on the version read, and read again
 * when another write came first.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { addToDay } from '../ledger/day-counters.js';
import { maskPhone } from '../phone/phone.js';
import { backoffMs, defaultSleep } from '../platform/retry.js';
import { InvalidItemError, isOneOf, isRecord, TableUnavailableError } from '../table/items.js';
import { callingKey } from '../table/keys.js';
import { cancellationCodes } from '../table/requests.js';
import { CALL_STATUSES } from '../twilio/call-status.js';
import {
  ATTEMPT_OUTCOMES,
  type Attempt,
  type AttemptFacts,
  type AttemptOutcome,
  activeClaim,
  attemptOutcome,
  type Claim,
  withAttempt,
} from './attempts.js';
import { actorField } from './item.js';
import type { Actor } from './model.js';

/** An attempt's outcome before and after a write: counted (`callbacks:attempts:<outcome>`) on the day it was placed. */
interface Counted {
  day: string;
  before: AttemptOutcome | undefined;
  after: AttemptOutcome | undefined;
}

/** An attempt with the facts its callbacks brought. */
export type KeptAttempt = Attempt & { facts: AttemptFacts };

export interface Calling {
  phone: string;
  attempts: KeptAttempt[];
  claim?: Claim;
  version: number;
}

/** The claim of someone else's call in progress. */
export class ClaimedError extends Error {
  override name = 'ClaimedError';
  constructor(readonly claim: Claim) {
    // The 409's message, logged with the refusal: the person's name, or the agent's number masked (GET /callbacks has the claim whole).
    super(`Being called by ${claim.person?.name ?? maskPhone(claim.agent)} until ${claim.until}`);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const status = (v: unknown) => (isOneOf(CALL_STATUSES, v) ? v : undefined);

function parseFacts(value: unknown): AttemptFacts {
  if (!isRecord(value)) return {};
  const facts: AttemptFacts = {};
  const agentAnswered = str(value.agentAnswered);
  if (agentAnswered !== undefined) facts.agentAnswered = agentAnswered;
  const agent = isRecord(value.agent) ? status(value.agent.status) : undefined;
  if (agent !== undefined && isRecord(value.agent)) facts.agent = { status: agent, seconds: num(value.agent.seconds) };
  const leg = isRecord(value.leg) ? status(value.leg.status) : undefined;
  if (leg !== undefined && isRecord(value.leg)) {
    const answeredBy = str(value.leg.answeredBy);
    facts.leg = {
      callSid: str(value.leg.callSid) ?? '',
      status: leg,
      seconds: num(value.leg.seconds),
      ...(answeredBy ? { answeredBy } : {}),
    };
  }
  if (isRecord(value.dial) && typeof value.dial.status === 'string') {
    const dialCallSid = str(value.dial.dialCallSid);
    facts.dial = { status: value.dial.status, seconds: num(value.dial.seconds), ...(dialCallSid ? { dialCallSid } : {}) };
  }
  return facts;
}

/** @throws InvalidItemError when it is malformed. */
export function parseCalling(item: Readonly<Record<string, unknown>>): Calling {
  if (typeof item.phone !== 'string' || !Array.isArray(item.attempts)) throw new InvalidItemError('calling item is malformed');
  const attempts = item.attempts.map((a): KeptAttempt => {
    if (!isRecord(a) || typeof a.id !== 'string' || typeof a.at !== 'string' || typeof a.agent !== 'string')
      throw new InvalidItemError('calling item: an attempt is malformed');
    const outcome = isOneOf(ATTEMPT_OUTCOMES, a.outcome) ? a.outcome : undefined;
    const callSid = str(a.callSid);
    return {
      id: a.id,
      at: a.at,
      agent: a.agent,
      ...actorField(a.person),
      ...(callSid ? { callSid } : {}),
      ...(outcome ? { outcome } : {}),
      facts: parseFacts(a.facts),
    };
  });
  const c = item.claim;
  const claim =
    isRecord(c) && typeof c.attemptId === 'string' && typeof c.agent === 'string' && typeof c.until === 'string'
      ? { attemptId: c.attemptId, agent: c.agent, until: c.until, ...actorField(c.person) }
      : undefined;
  return { phone: item.phone, attempts, ...(claim ? { claim } : {}), version: num(item.version) };
}

export interface CallingStore {
  read(phone: string): Promise<Calling | undefined>;
  /**
   * Starts an attempt and claims the customer for `claimSeconds`. The same attempt id again
   * answers the attempt as it is (a double click places one call).
   * @throws ClaimedError while someone else's claim holds (unless `force`).
   */
  start(
    phone: string,
    attempt: { id: string; agent: string; person?: Actor },
    options: { now: Date; claimSeconds: number; force: boolean },
  ): Promise<{ attempt: KeptAttempt; created: boolean }>;
  /** The agent's call Twilio created for the attempt. */
  placed(phone: string, attemptId: string, callSid: string): Promise<void>;
  /** Twilio refused the call: the attempt and its claim go, as if never started. */
  abandon(phone: string, attemptId: string): Promise<void>;
  /**
   * Adds what a callback said to the attempt's facts and decides its outcome again; the claim
   * goes once an outcome is known. Undefined when the attempt is not kept (erased, or too old).
   */
  record(
    phone: string,
    attemptId: string,
    facts: AttemptFacts,
    minSeconds: number,
  ): Promise<{ before: AttemptOutcome | undefined; attempt: KeptAttempt } | undefined>;
}

export function createCallingStore(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): CallingStore {
  const maxAttempts = options.maxAttempts ?? 8;
  const sleep = options.sleep ?? defaultSleep;

  async function read(phone: string): Promise<Calling | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      item = (await client.send(new GetCommand({ TableName: tableName, Key: { pk: callingKey(phone) }, ConsistentRead: true }))).Item;
    } catch (error) {
      throw new TableUnavailableError('The calling item could not be read', { cause: error });
    }
    return item === undefined ? undefined : parseCalling(item);
  }

  /**
   * Writes `next` if the item is still at the version read; false when another write came first.
   * An attempt's outcome counted on the day it was placed goes in the same transaction.
   */
  async function write(expected: Calling | undefined, next: Omit<Calling, 'version'>, now: string, count?: Counted): Promise<boolean> {
    const put = {
      TableName: tableName,
      Item: { pk: callingKey(next.phone), type: 'calling', ...next, version: (expected?.version ?? 0) + 1, updatedAt: now },
      ...(expected === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': expected.version } }),
    };
    const counters = new Map<string, number>();
    if (count?.before !== undefined) counters.set(`callbacks:attempts:${count.before}`, -1);
    if (count?.after !== undefined)
      counters.set(`callbacks:attempts:${count.after}`, (counters.get(`callbacks:attempts:${count.after}`) ?? 0) + 1);
    try {
      if (count === undefined || count.before === count.after) await client.send(new PutCommand(put));
      else
        await client.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: put }, { Update: addToDay(tableName, count.day, counters, now, next.phone) }],
          }),
        );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      if (error instanceof TransactionCanceledException && cancellationCodes(error)[0] === 'ConditionalCheckFailed') return false;
      throw new TableUnavailableError('The calling item could not be written', { cause: error });
    }
  }

  /** Reads, changes and writes until the write holds; `change` answers the next state (or undefined: nothing to write). */
  async function update<T>(
    phone: string,
    change: (current: Calling | undefined) => { next: Omit<Calling, 'version'> | undefined; result: T; count?: Counted },
    now: string,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      const current = await read(phone);
      const { next, result, count } = change(current);
      if (next === undefined || (await write(current, next, now, count))) return result;
      if (n >= maxAttempts) throw new TableUnavailableError('The calling item kept changing');
      await sleep(backoffMs(n));
    }
  }

  return {
    read,
    async start(phone, attempt, { now, claimSeconds, force }) {
      return update<{ attempt: KeptAttempt; created: boolean }>(
        phone,
        (current) => {
          const known = current?.attempts.find((a) => a.id === attempt.id);
          if (known !== undefined) return { next: undefined, result: { attempt: known, created: false } };
          const claim = activeClaim(current?.claim, now);
          if (claim !== undefined && !force) throw new ClaimedError(claim);
          const person = attempt.person === undefined ? {} : { person: attempt.person };
          const started: KeptAttempt = { id: attempt.id, at: now.toISOString(), agent: attempt.agent, ...person, facts: {} };
          return {
            next: {
              phone,
              attempts: withAttempt(current?.attempts ?? [], started) as KeptAttempt[],
              claim: {
                attemptId: attempt.id,
                agent: attempt.agent,
                ...person,
                until: new Date(now.getTime() + claimSeconds * 1000).toISOString(),
              },
            },
            result: { attempt: started, created: true },
          };
        },
        now.toISOString(),
      );
    },
    async placed(phone, attemptId, callSid) {
      await update(
        phone,
        (current) => {
          const known = current?.attempts.find((a) => a.id === attemptId);
          if (current === undefined || known === undefined || known.callSid === callSid) return { next: undefined, result: undefined };
          const { version: _v, ...rest } = current;
          return { next: { ...rest, attempts: withAttempt(current.attempts, { ...known, callSid }) as KeptAttempt[] }, result: undefined };
        },
        new Date().toISOString(),
      );
    },
    async abandon(phone, attemptId) {
      await update(
        phone,
        (current) => {
          if (current === undefined || !current.attempts.some((a) => a.id === attemptId)) return { next: undefined, result: undefined };
          const { version: _v, claim, ...rest } = current;
          const attempts = current.attempts.filter((a) => a.id !== attemptId);
          return {
            next: { ...rest, attempts, ...(claim === undefined || claim.attemptId === attemptId ? {} : { claim }) },
            result: undefined,
          };
        },
        new Date().toISOString(),
      );
    },
    async record(phone, attemptId, facts, minSeconds) {
      return update(
        phone,
        (current) => {
          const known = current?.attempts.find((a) => a.id === attemptId);
          if (current === undefined || known === undefined) return { next: undefined, result: undefined };
          const merged: AttemptFacts = { ...known.facts, ...facts };
          const outcome = attemptOutcome(merged, minSeconds);
          // Decided, and only a customer's leg can change a decision (the Dial action and the
          // agent's end rank below it): nothing worth a write (bench/call-back.ts).
          if (known.outcome !== undefined && outcome === known.outcome && facts.leg === undefined)
            return { next: undefined, result: { before: known.outcome, attempt: known } };
          const attempt: KeptAttempt = { ...known, facts: merged, ...(outcome === undefined ? {} : { outcome }) };
          if (JSON.stringify(attempt) === JSON.stringify(known)) return { next: undefined, result: { before: known.outcome, attempt } };
          const { version: _v, claim, ...rest } = current;
          // The claim goes once its call has an outcome.
          const keep = claim !== undefined && !(claim.attemptId === attemptId && outcome !== undefined);
          return {
            next: { ...rest, attempts: withAttempt(current.attempts, attempt) as KeptAttempt[], ...(keep ? { claim } : {}) },
            result: { before: known.outcome, attempt },
            count: { day: known.at.slice(0, 10), before: known.outcome, after: attempt.outcome },
          };
        },
        new Date().toISOString(),
      );
    },
  };
}
