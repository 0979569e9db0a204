/**
 * The events function on DynamoDB Local's real stream (serverless.yml's mapping for `events`)
 * into a local EventBridge endpoint, cold-started as deployed under its role: each fact once,
 * with a stable id; a refused entry retries from its record without publishing later ones twice.
 * The contacts are applied by the contacts mapping on the same stream (tests/helpers.ts).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventBridge, startLocalEventBridge } from '../../dev/eventbridge.js';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { StreamPoller } from '../../dev/stream-poller.js';
import { createTable } from '../../dev/table.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { type CallReport, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger, type Ledger } from '../../lib/ledger/store.js';
import { parseWebhookConfig } from '../../lib/webhook/config.js';
import { ROUTES } from '../../lib/webhook/handle.js';
import { type Delivery, type Flow, flows } from '../flows.js';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, contactsPoller, freshTable, statusCallback, streamsClient } from '../helpers.js';
import { guardClient } from '../iam.js';
import { loadHandler } from '../lambda.js';

type Handler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;
const context = { awsRequestId: 'ev', functionName: 'events' } as unknown as Context;
const config = parseWebhookConfig({ TABLE_NAME: 'unused', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN });

let table: Awaited<ReturnType<typeof freshTable>>;
let bus: LocalEventBridge;
let handler: Handler;
let streamArn: string;
let poller: StreamPoller;
let contacts: ReturnType<typeof contactsPoller>;
let ledger: Ledger;
const failures: unknown[] = [];

/** A poller of the events mapping (filter, batch size, bisection) into the function. */
function eventsPoller(onFailure: (failure: unknown) => void): StreamPoller {
  const physical = { tableName: table.tableName, streamLabel: streamArn.split('/stream/')[1] };
  return new StreamPoller({
    streams: guardClient(streamsClient(), 'events', physical),
    streamArn,
    region: 'us-east-1',
    config: readStreamEvent('events'),
    invoke: (event) => handler(event, context),
    onFailure,
  });
}

beforeAll(async () => {
  bus = await startLocalEventBridge();
  table = await freshTable();
  streamArn = (await createTable(table.client, table.tableName)).streamArn ?? '';
  handler = await loadHandler<Handler>('events', { tableName: table.tableName, env: { AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint } });
  poller = eventsPoller((failure) => failures.push(failure));
  contacts = contactsPoller(table, streamArn);
  ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: config.ledger });
});
afterAll(async () => {
  await bus.stop();
  await table.drop();
});

/** Polls until the stream is drained (two empty reads). */
async function drain(p: StreamPoller = poller): Promise<void> {
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) {
    const result = await p.pollOnce();
    quiet = result.read === 0 ? quiet + 1 : 0;
  }
}

const ids = (detailType: string) => bus.events.filter((e) => e.detailType === detailType).map((e) => (e.detail as { id: string }).id);
const eventsOf = (callSidOrPhone: string) =>
  bus.events.filter((e) => JSON.stringify(e.detail).includes(callSidOrPhone)).map((e) => (e.detail as { id: string }).id);

function reportOf(delivery: Delivery): CallReport {
  const route = ROUTES.get(delivery.route);
  if (route === undefined) throw new Error(`no route ${delivery.route}`);
  return route.classify(delivery.params, config, { next: undefined });
}
const flowNamed = (n: number, name: string): Flow => {
  const flow = flows(n).find((f) => f.name === name);
  if (flow === undefined) throw new Error(`no flow ${name}`);
  return flow;
};
/** The callbacks arrive at the call's end (flows start 2026-11-24T15:00:00Z). */
const NOW = new Date('2026-11-24T15:01:30.000Z');
const deliver = async (deliveries: readonly Delivery[]) => {
  for (const d of deliveries) await ledger.record(reportOf(d), NOW);
};

describe('events to EventBridge', () => {
  it('publishes a missed call, its callback opening and its resolution, each once with a stable id', async () => {
    const phone = '+14155558100';
    const report = classifyStatusCallback(statusCallback({ From: phone, Timestamp: 'Tue, 24 Nov 2026 09:00:00 +0000' }));
    await ledger.record(report);
    await ledger.record(report);
    await contacts.instance.pollOnce();
    const resolving = callSid();
    await createCallbackResolver(table.as('webhook'), { tableName: table.tableName }).resolve(phone, {
      id: resolving,
      at: '2026-11-24T09:30:00.000Z',
      by: 'callback',
    });
    await drain();
    expect(ids('Missed call recorded')).toEqual([`missed-call-recorded:${report.rootCallSid}`]);
    expect(bus.events.find((e) => e.detailType === 'Missed call recorded')?.detail).toMatchObject({
      callSid: report.rootCallSid,
      customer: phone,
      status: 'no-answer',
      reason: 'no-answer',
      occurredAt: '2026-11-24T09:00:00.000Z',
      source: 'status-callback',
    });
    expect(ids('Callback opened')).toEqual([`callback-opened:${phone}:2026-11-24T09:00:00.000Z`]);
    expect(bus.events.find((e) => e.detailType === 'Callback opened')?.detail).toMatchObject({
      lastReason: 'no-answer',
      callSid: report.rootCallSid,
    });
    expect(ids('Callback resolved')).toEqual([`callback-resolved:${phone}:${resolving}:1`]);
    const resolved = bus.events.find((e) => e.detailType === 'Callback resolved');
    expect(resolved).toMatchObject({
      source: 'missed-call-ledger',
      eventBusName: 'default',
      detail: { phone, resolvedBy: 'callback', secondsToCallback: 1800, missedCount: 1, lastReason: 'no-answer' },
    });
    expect(ids('Outcome corrected')).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('retries a refused entry from its record and publishes the later ones once', async () => {
    const before = bus.events.length;
    const calls = [0, 1, 2].map((i) =>
      classifyStatusCallback(statusCallback({ From: 'anonymous', Timestamp: `Tue, 24 Nov 2026 1${i}:00:00 +0000` })),
    );
    for (const call of calls) await ledger.record(call);
    bus.refuse(1);
    await drain();
    const published = bus.events.slice(before).map((e) => (e.detail as { callSid: string }).callSid);
    expect(published.sort()).toEqual(calls.map((c) => c.rootCallSid).sort());
    expect(failures).toEqual([]);
  });

  it('publishes nothing of an answered call, and no callback opening for a short-abandoned miss', async () => {
    const answered = flowNamed(1, 'hunt answered by the cell');
    const misdial = flowNamed(1, 'caller hangs up within 10 s (a misdial)');
    await deliver(answered.deliveries);
    await deliver(misdial.deliveries);
    await contacts.instance.pollOnce();
    await drain();
    expect(eventsOf(answered.root)).toEqual([]);
    expect(eventsOf(answered.caller)).toEqual([]);
    expect(eventsOf(misdial.root)).toEqual([`missed-call-recorded:${misdial.root}`]);
    expect(
      bus.events.find((e) => e.detailType === 'Missed call recorded' && (e.detail as { callSid: string }).callSid === misdial.root)?.detail,
    ).toMatchObject({
      reason: 'short-abandoned',
      status: 'no-answer',
      customer: misdial.caller,
    });
    expect(ids('Callback opened').filter((id) => id.includes(misdial.caller))).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('publishes "Voicemail left" when a miss gets its message and "Voicemail transcribed" when its transcript comes, each once', async () => {
    const rang = flowNamed(3, 'ring the office, then voicemail');
    const closed = flowNamed(3, 'after hours, straight to voicemail');
    // The office rang out (counted at the Dial action), then the message, then its transcript, each twice.
    const byRoute = (flow: Flow, route: string) => flow.deliveries.filter((d) => d.route === route);
    await deliver(rang.deliveries.filter((d) => d.route !== '/twilio/recording-status' && d.route !== '/twilio/transcription'));
    await drain();
    expect(eventsOf(rang.root)).toEqual([`missed-call-recorded:${rang.root}`]);
    await deliver([...byRoute(rang, '/twilio/recording-status'), ...byRoute(rang, '/twilio/recording-status')]);
    await drain();
    const sid = rang.voicemail?.recordingSid ?? '';
    expect(eventsOf(rang.root)).toEqual([`missed-call-recorded:${rang.root}`, `voicemail-left:${sid}`]);
    await deliver([...byRoute(rang, '/twilio/transcription'), ...byRoute(rang, '/twilio/transcription')]);
    await drain();
    expect(eventsOf(rang.root)).toEqual([`missed-call-recorded:${rang.root}`, `voicemail-left:${sid}`, `voicemail-transcribed:${sid}`]);
    expect(bus.events.find((e) => e.detailType === 'Voicemail transcribed' && JSON.stringify(e.detail).includes(sid))?.detail).toEqual({
      id: `voicemail-transcribed:${sid}`,
      callSid: rang.root,
      customer: rang.caller,
      line: '+14155559876',
      reason: 'no-answer',
      afterHours: false,
      recordingSid: sid,
      durationSeconds: 21,
      transcript: rang.voicemail?.transcript,
    });
    // A call TwiML alone handled: the message makes it a miss, both facts at once.
    await deliver(closed.deliveries);
    await drain();
    expect(eventsOf(closed.root)).toEqual([`missed-call-recorded:${closed.root}`, `voicemail-left:${closed.voicemail?.recordingSid}`]);
    expect(failures).toEqual([]);
  });

  it('publishes "Outcome corrected" once, with a stable id, when a call counted missed turns out answered', async () => {
    const hunt = flowNamed(2, 'hunt answered by the cell');
    const rootEnd = hunt.deliveries.filter((d) => d.rootEnd === true);
    const office = hunt.deliveries.filter((d) => d.params.CallStatus === 'no-answer');
    const cell = hunt.deliveries.filter((d) => d.params.ParentCallSid !== undefined && d.params.CallStatus === 'completed');
    // The root's end and the office leg first: decided missed, the contact applied, the callback opened.
    await deliver([...rootEnd, ...office]);
    await contacts.instance.pollOnce();
    await drain();
    // The callback names the call that opened it (the text-back reads that call).
    const opened = `callback-opened:${hunt.caller}:2026-11-24T15:00:00.000Z`;
    expect(eventsOf(hunt.root)).toEqual([`missed-call-recorded:${hunt.root}`, opened]);
    expect(bus.events.find((e) => (e.detail as { id: string }).id === opened)?.detail).toMatchObject({ callSid: hunt.root });

    // The cell's leg: a person answered. Delivered twice (Twilio retries).
    await deliver([...cell, ...cell]);
    await contacts.instance.pollOnce();
    await drain();
    const corrected = `outcome-corrected:${hunt.root}:none`;
    expect(eventsOf(hunt.root)).toEqual([`missed-call-recorded:${hunt.root}`, opened, corrected]);
    expect(
      bus.events.find((e) => e.detailType === 'Outcome corrected' && (e.detail as { callSid: string }).callSid === hunt.root)?.detail,
    ).toEqual({
      id: corrected,
      callSid: hunt.root,
      outcome: 'answered',
      was: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
      customer: hunt.caller,
      line: '+14155559876',
      day: '2026-11-24',
    });
    // The retraction opened nothing and resolved nothing.
    expect(ids('Callback opened').filter((id) => id.includes(hunt.caller))).toHaveLength(1);
    expect(ids('Callback resolved').filter((id) => id.includes(hunt.caller))).toEqual([]);
    expect(failures).toEqual([]);

    // The whole stream again (a new mapping from TRIM_HORIZON): the same facts, the same ids.
    const first = eventsOf(hunt.root);
    const before = bus.events.length;
    await drain(eventsPoller(() => {}));
    const again = bus.events
      .slice(before)
      .filter((e) => JSON.stringify(e.detail).includes(hunt.root))
      .map((e) => (e.detail as { id: string }).id);
    expect(again).toEqual(first);
  });
});
