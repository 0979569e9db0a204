/**
 * Text-back as deployed: the table's stream through the events mapping (serverless.yml's filters)
 * into the events function's code, its `Callback opened` events on a local bus whose rule is
 * serverless.yml's `TextBackRule`, delivered to the textback function cold-started as deployed
 * under its role with TEXT_BACK=on, sending through the official SDK to the local Twilio API:
 * once per opened callback under duplicate events, Lambda's retries of a failed invocation and a
 * crash between claim and send; the cooldown; opt-out and every Twilio error path; outbound and
 * old misses never texted; short-abandoned calls and calls that turned out answered never texted.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeliveredEvent, type LocalEventBridge, startLocalEventBridge } from '../../dev/eventbridge.js';
import { readAsyncRetries, readEventRule, readStreamEvent } from '../../dev/serverless-config.js';
import { StreamPoller } from '../../dev/stream-poller.js';
import { createTable } from '../../dev/table.js';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { createPublisher } from '../../lib/events/publish.js';
import { processEventsBatch } from '../../lib/events/stream.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { type CallReport, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { parseDayCounts } from '../../lib/operator/stats.js';
import { callKey, contactKey, textBackKey } from '../../lib/table/keys.js';
import { parseTextBackRecord } from '../../lib/textback/item.js';
import { handleOpenedEvent, type OpenedEvent, type Settled } from '../../lib/textback/run.js';
import { readTextBackSettings } from '../../lib/textback/settings.js';
import { createTextBackStore, type TextBackStore } from '../../lib/textback/store.js';
import { createTwilioMessages } from '../../lib/twilio/messages.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callSid,
  contactsPoller,
  dayTotals,
  freshTable,
  LEDGER_SETTINGS,
  statusCallback,
  streamsClient,
} from '../helpers.js';
import { guardClient } from '../iam.js';
import { loadHandler } from '../lambda.js';

type Handler = (event: OpenedEvent, context: Context) => Promise<{ settled: Settled | 'invalid' | 'off' }>;
const context = { awsRequestId: 'tb', functionName: 'textback' } as unknown as Context;
const LINE = '+14155559876';

let table: Awaited<ReturnType<typeof freshTable>>;
let twilio: TwilioApi;
let bus: LocalEventBridge;
let handler: Handler;
let events: StreamPoller;
let contacts: ReturnType<typeof contactsPoller>;
/** Every event the rule delivered, to deliver again as a duplicate or a retry. */
const delivered: DeliveredEvent[] = [];
/** What each invocation of the function answered, or the error it failed with (Lambda then retries). */
const invocations: ({ settled: string } | { error: string })[] = [];
/** Deliveries still running (the bus answers PutEvents first, as EventBridge does). */
const pending = new Set<Promise<void>>();
/** While set, the rule's events are kept, not delivered (a test hands them to the code itself). */
let holding = false;

async function startFunction(env: Record<string, string> = {}): Promise<Handler> {
  return loadHandler<Handler>('textback', {
    tableName: table.tableName,
    env: { TEXT_BACK: 'on', TWILIO_API_BASE_URL: twilio.baseUrl, ...env },
  });
}

/** Lambda's asynchronous invocation: the function, retried as its EventInvokeConfig says when it fails. */
async function invokeAsync(event: DeliveredEvent): Promise<void> {
  const retries = readAsyncRetries('textback').maximumRetryAttempts;
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      invocations.push(await handler(event as unknown as OpenedEvent, context));
      return;
    } catch (error) {
      invocations.push({ error: error instanceof Error ? error.message : String(error) });
    }
  }
}

beforeAll(async () => {
  twilio = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
  table = await freshTable();
  const streamArn = (await createTable(table.client, table.tableName)).streamArn ?? '';
  handler = await startFunction();
  const rule = readEventRule('TextBackRule');
  expect(rule.functionName).toBe('textback');
  bus = await startLocalEventBridge({
    rules: [
      {
        name: 'TextBackRule',
        pattern: rule.pattern,
        deliver: async (event) => {
          delivered.push(event);
          if (holding) return;
          const run = invokeAsync(event);
          pending.add(run);
          await run.finally(() => pending.delete(run));
        },
      },
    ],
  });
  const physical = { tableName: table.tableName, streamLabel: streamArn.split('/stream/')[1] };
  const publish = createPublisher(
    guardClient(
      new EventBridgeClient({
        endpoint: bus.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      'events',
      physical,
    ),
    'default',
  );
  events = new StreamPoller({
    streams: guardClient(streamsClient(), 'events', physical),
    streamArn,
    region: 'us-east-1',
    config: readStreamEvent('events'),
    invoke: (event) => processEventsBatch(event.Records, publish),
    onFailure: () => {},
  });
  contacts = contactsPoller(table, streamArn);
});
afterAll(async () => {
  await bus.stop();
  await twilio.stop();
  await table.drop();
});

/** The stream read to its end by the events mapping, and every delivery of the rule finished. */
async function drain(): Promise<void> {
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) {
    const result = await events.pollOnce();
    quiet = result.read === 0 ? quiet + 1 : 0;
  }
  while (pending.size > 0) await Promise.all([...pending]);
}

const ledger = () => createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

/**
 * A missed call (its own status callback says no-answer) recorded by the webhook's path when it
 * came, at the call's end, and the contact work the ledger wrote on its item applied (the
 * callback opens or joins).
 */
async function miss(phone: string, minutesAgo: number, overrides: Record<string, string> = {}): Promise<string> {
  const at = new Date(Date.now() - minutesAgo * 60_000);
  const report = classifyStatusCallback(statusCallback({ From: phone, To: LINE, Timestamp: at.toUTCString(), ...overrides }));
  await ledger().record(report, new Date(at.getTime() + 1_000));
  const item = await get(callKey(report.rootCallSid));
  const work = item === undefined ? undefined : parsePendingCall(item);
  if (work === undefined) throw new Error('no contact work');
  await createContactsStore(table.as('contacts'), { tableName: table.tableName }).apply(work);
  return at.toISOString().replace(/\.\d{3}Z$/, '.000Z');
}

/** A callback that reached the number `minutesAgo`: it resolves the misses before it. */
async function resolve(phone: string, minutesAgo: number): Promise<void> {
  await createCallbackResolver(table.as('webhook'), { tableName: table.tableName }).resolve(phone, {
    id: callSid(),
    at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    by: 'callback',
  });
}

const sentTo = (phone: string) => twilio.messages.filter((m) => m.to === phone);
const messageRequests = () => twilio.requests.filter((r) => r.url.includes('/Messages.json')).length;

async function record(phone: string) {
  return parseTextBackRecord((await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: textBackKey(phone) } }))).Item);
}
async function today() {
  const day = new Date().toISOString().slice(0, 10);
  return parseDayCounts(await dayTotals(table.docs, table.tableName, day)).textBack;
}

describe('text-back through the textback function', () => {
  it('texts the caller once when the callback opens, from the line dialled, and records the Message SID', async () => {
    const phone = '+14155557301';
    const before = await today();
    const openSince = await miss(phone, 1);
    await drain();
    expect(sentTo(phone)).toEqual([
      expect.objectContaining({
        to: phone,
        from: LINE,
        body: 'Sorry we missed your call. We will call you back shortly. Reply STOP to opt out.',
      }),
    ]);
    const state = await record(phone);
    expect(state?.episode).toMatchObject({ openSince, state: 'sent', messageSid: sentTo(phone)[0]?.sid });
    expect((await today()).sent).toBe(before.sent + 1);

    // A second miss joins the open callback: no opening, no text.
    await miss(phone, 0.5);
    await drain();
    expect(sentTo(phone)).toHaveLength(1);
  });

  it('sends nothing more when the same event comes again: a duplicate delivery and a retried invocation', async () => {
    const phone = '+14155557302';
    delivered.length = 0;
    await miss(phone, 1);
    await drain();
    const opened = delivered.filter((e) => (e.detail as { phone?: string }).phone === phone);
    expect(opened).toHaveLength(1);
    const requests = messageRequests();
    for (const event of opened) {
      expect(await handler(event as unknown as OpenedEvent, context)).toEqual({ settled: 'duplicate' });
      expect(await handler(event as unknown as OpenedEvent, context)).toEqual({ settled: 'duplicate' });
    }
    // And a cold start (another container) given the same event.
    const other = await startFunction();
    for (const event of opened) await other(event as unknown as OpenedEvent, context);
    handler = await startFunction();
    expect(sentTo(phone)).toHaveLength(1);
    expect(messageRequests()).toBe(requests);
  });

  it('ignores an event it cannot act on (no callSid: published before 0.2.0, or by someone else), without failing', async () => {
    const event = {
      version: '0',
      id: 'e1',
      'detail-type': 'Callback opened',
      source: 'missed-call-ledger',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { id: 'callback-opened:+14155557399:2026-11-24T09:00:00.000Z', phone: '+14155557399', openSince: '2026-11-24T09:00:00.000Z' },
    } as unknown as OpenedEvent;
    const requests = messageRequests();
    expect(await handler(event, context)).toEqual({ settled: 'invalid' });
    expect(await handler({ ...event, detail: { ...event.detail, phone: 'not-a-number', callSid: callSid() } }, context)).toEqual({
      settled: 'invalid',
    });
    expect(messageRequests()).toBe(requests);
    expect(await record('+14155557399')).toBeUndefined();
  });

  it('skips a callback that opens again within the cooldown, and texts again after it', async () => {
    const phone = '+14155557303';
    await miss(phone, 3);
    await drain();
    await resolve(phone, 2);
    const before = await today();
    await miss(phone, 1);
    await drain();
    expect(sentTo(phone)).toHaveLength(1);
    expect((await record(phone))?.episode).toMatchObject({ state: 'skipped', reason: 'cooldown' });
    expect((await today()).skipped.cooldown).toBe(before.skipped.cooldown + 1);

    handler = await startFunction({ TEXT_BACK_COOLDOWN_HOURS: '0' });
    await resolve(phone, 0.75);
    await miss(phone, 0.5);
    await drain();
    handler = await startFunction();
    expect(sentTo(phone)).toHaveLength(2);
  });

  it('marks a number that replied STOP (21610) and never asks Twilio for it again', async () => {
    const phone = '+14155557304';
    twilio.optedOut.add(phone);
    await miss(phone, 2);
    await drain();
    expect((await record(phone))?.episode).toMatchObject({ state: 'failed', reason: 'opted-out', errorCode: 21610 });
    expect((await record(phone))?.optedOutAt).toBeDefined();
    const requests = messageRequests();
    handler = await startFunction({ TEXT_BACK_COOLDOWN_HOURS: '0' });
    await resolve(phone, 1.5);
    await miss(phone, 1);
    await drain();
    handler = await startFunction();
    expect((await record(phone))?.episode).toMatchObject({ state: 'skipped', reason: 'opted-out' });
    expect(messageRequests()).toBe(requests);
    expect(sentTo(phone)).toEqual([]);
  });

  it('marks a landline (21614) not textable after one request, without retries or stream retries', async () => {
    const phone = '+14155557305';
    twilio.landlines.add(phone);
    const requests = messageRequests();
    await miss(phone, 1);
    await drain();
    expect(messageRequests()).toBe(requests + 1);
    expect(await record(phone)).toMatchObject({
      episode: { state: 'failed', reason: 'not-mobile', errorCode: 21614 },
      notTextable: { reason: 'not-mobile' },
    });
    // Recorded, not failed: Lambda has nothing to retry.
    expect(invocations.at(-1)).toEqual({ settled: 'failed' });
  });

  it('retries 429 and 5xx within the invocation: sent after two 429s; given up after three 500s, recorded as failed', async () => {
    const a = '+14155557306';
    twilio.faults.push({ kind: 'status', status: 429, times: 2, path: /Messages\.json$/ });
    let requests = messageRequests();
    await miss(a, 1);
    await drain();
    expect(messageRequests()).toBe(requests + 3);
    expect(sentTo(a)).toHaveLength(1);

    const b = '+14155557307';
    twilio.faults.push({ kind: 'status', status: 500, times: 3, path: /Messages\.json$/ });
    requests = messageRequests();
    const before = invocations.length;
    await miss(b, 1);
    await drain();
    expect(messageRequests()).toBe(requests + 3);
    expect(sentTo(b)).toEqual([]);
    expect(await record(b)).toMatchObject({ episode: { state: 'failed', reason: 'unavailable' } });
    // Recorded, not left to Lambda's retries: one invocation, which did not fail.
    expect(invocations.slice(before)).toEqual([{ settled: 'failed' }]);
  });

  it('records a refused credential (401) as a configuration failure, once', async () => {
    const phone = '+14155557308';
    handler = await startFunction({ TWILIO_AUTH_TOKEN: 'not-the-token' });
    await miss(phone, 1);
    await drain();
    handler = await startFunction();
    expect(await record(phone)).toMatchObject({ episode: { state: 'failed', reason: 'auth' } });
    expect(sentTo(phone)).toEqual([]);
  });

  it('never texts a miss of a call we placed, nor one older than TEXT_BACK_MAX_AGE_MINUTES', async () => {
    const outbound = '+14155557309';
    await miss(outbound, 1, { Direction: 'outbound-api', From: LINE, To: outbound });
    const old = '+14155557310';
    await miss(old, 45);
    await drain();
    expect(sentTo(outbound)).toEqual([]);
    expect(sentTo(old)).toEqual([]);
    expect((await record(outbound))?.episode).toMatchObject({ state: 'skipped', reason: 'outbound' });
    expect((await record(old))?.episode).toMatchObject({ state: 'skipped', reason: 'too-old' });
  });
});

describe('a crash between the claim and the send', () => {
  it('loses at most that one text: the retry finds the claim, records "unknown" and sends nothing', async () => {
    const phone = '+14155557311';
    const settings = readTextBackSettings({ TEXT_BACK: 'on' });
    const store = createTextBackStore(table.as('textback'), table.tableName);
    let sends = 0;
    const messages = createTwilioMessages({
      accountSid: ACCOUNT_SID,
      username: ACCOUNT_SID,
      password: AUTH_TOKEN,
      baseUrl: twilio.baseUrl,
    });
    // The fault: the process dies right after the claim is written (before Twilio is asked).
    const crashing: TextBackStore = {
      read: (p) => store.read(p),
      callState: (sid) => store.callState(sid),
      write: async (expected, next, now) => {
        const written = await store.write(expected, next, now);
        if (next.episode?.state === 'claimed') throw new Error('the container died');
        return written;
      },
    };
    const call = async () => ({ direction: 'inbound', answered: false });
    const counted = async () => {
      sends += 1;
      return messages;
    };
    // The opening's event, as the rule delivers it (held: the code is handed it below).
    holding = true;
    delivered.length = 0;
    await miss(phone, 1);
    await drain();
    holding = false;
    const opening = delivered.filter((e) => (e.detail as { phone?: string }).phone === phone) as unknown as OpenedEvent[];
    expect(opening).toHaveLength(1);
    const event = opening[0] as OpenedEvent;
    const before = await today();

    // The invocation fails (Lambda retries it), having sent nothing.
    await expect(handleOpenedEvent(event, { settings, store: crashing, call, messages: counted })).rejects.toThrow('the container died');
    expect(sends).toBe(0);
    // Lambda's retry; then a duplicate delivery of the event.
    expect(await handleOpenedEvent(event, { settings, store, call, messages: counted })).toBe('unknown');
    expect(await handleOpenedEvent(event, { settings, store, call, messages: counted })).toBe('duplicate');
    expect(sends).toBe(0);
    expect(sentTo(phone)).toEqual([]);
    expect((await record(phone))?.episode).toMatchObject({ state: 'unknown', reason: 'crashed-after-claim' });
    expect((await today()).unknown).toBe(before.unknown + 1);
    await drain();
  });
});

/** A `<Dial>` call from `phone` that started `secondsAgo`, as its callbacks report it. */
function dialled(phone: string, secondsAgo: number) {
  const root = callSid();
  const start = Date.now() - secondsAgo * 1000;
  const stamp = (s: number) => new Date(start + s * 1000).toUTCString();
  const leg = (status: string, end: number, duration: number) =>
    classifyStatusCallback(
      statusCallback({
        CallSid: callSid(),
        ParentCallSid: root,
        Direction: 'outbound-dial',
        From: LINE,
        To: '+14155550181',
        CallStatus: status,
        CallDuration: String(duration),
        Timestamp: stamp(end),
      }),
    );
  const end = (duration: number) =>
    classifyStatusCallback(
      statusCallback({
        CallSid: root,
        From: phone,
        To: LINE,
        CallStatus: 'completed',
        CallDuration: String(duration),
        Timestamp: stamp(duration),
      }),
    );
  return { root, leg, end, at: (s: number) => new Date(start + s * 1000) };
}

const deliver = async (report: CallReport, at: Date) => ledger().record(report, at);

describe('whole calls', () => {
  it('never texts a caller who hung up within SHORT_ABANDON_SECONDS; texts one who hung up later', async () => {
    const [misdial, rang] = ['+14155557320', '+14155557321'];
    const a = dialled(misdial, 60);
    await deliver(a.leg('canceled', 4, 0), a.at(4));
    await deliver(a.end(4), a.at(5));
    const b = dialled(rang, 60);
    await deliver(b.leg('canceled', 24, 0), b.at(24));
    await deliver(b.end(24), b.at(25));
    await contacts.instance.pollOnce();
    await drain();
    expect(await get(callKey(a.root))).toMatchObject({ outcome: 'missed', reason: 'short-abandoned' });
    expect(sentTo(misdial)).toEqual([]);
    expect(await record(misdial)).toBeUndefined();
    expect(await get(contactKey(misdial))).toBeUndefined();
    expect(await get(callKey(b.root))).toMatchObject({ outcome: 'missed', reason: 'abandoned' });
    expect(sentTo(rang)).toHaveLength(1);
  });

  it('a hunt decided missed, texted, then answered: the callback closes and nothing more is sent', async () => {
    const phone = '+14155557322';
    const hunt = dialled(phone, 120);
    // The root's end and the office leg first: nobody answered, so far.
    await deliver(hunt.leg('no-answer', 15, 0), hunt.at(81));
    await deliver(hunt.end(81), hunt.at(82));
    await contacts.instance.pollOnce();
    await drain();
    expect(sentTo(phone)).toHaveLength(1);
    // The cell's leg: a person answered after all.
    await deliver(hunt.leg('completed', 80, 62), hunt.at(83));
    await contacts.instance.pollOnce();
    await drain();
    expect(await get(callKey(hunt.root))).toMatchObject({ outcome: 'answered' });
    expect(await get(contactKey(phone))).toBeUndefined();
    expect(sentTo(phone)).toHaveLength(1);
  });

  it('never texts a call that turned out answered before the text-back looked at its opening', async () => {
    const phone = '+14155557323';
    const hunt = dialled(phone, 120);
    await deliver(hunt.leg('no-answer', 15, 0), hunt.at(81));
    await deliver(hunt.end(81), hunt.at(82));
    // The contacts function opens the callback; the cell's leg comes before the text-back function runs.
    await contacts.instance.pollOnce();
    await deliver(hunt.leg('completed', 80, 62), hunt.at(83));
    await contacts.instance.pollOnce();
    expect(await get(contactKey(phone))).toBeUndefined();
    await drain();
    // The text-back reads the opening call as it is now: answered since, it is not texted.
    expect(sentTo(phone)).toEqual([]);
  });
});
