/**
 * The events function on DynamoDB Local's real stream (serverless.yml's mapping for `events`)
 * into a local EventBridge endpoint, cold-started as deployed under its role: each fact once,
 * with a stable id; a refused entry retries from its record without publishing later ones twice.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventBridge, startLocalEventBridge } from '../../dev/eventbridge.js';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { StreamPoller } from '../../dev/stream-poller.js';
import { createTable } from '../../dev/table.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { callItem, parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { callSid, freshTable, statusCallback, streamsClient } from '../helpers.js';
import { guardClient } from '../iam.js';
import { loadHandler } from '../lambda.js';

type Handler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;
const context = { awsRequestId: 'ev', functionName: 'events' } as unknown as Context;

let table: Awaited<ReturnType<typeof freshTable>>;
let bus: LocalEventBridge;
let poller: StreamPoller;
const failures: unknown[] = [];

beforeAll(async () => {
  bus = await startLocalEventBridge();
  table = await freshTable();
  const described = await createTable(table.client, table.tableName);
  const streamArn = described.streamArn ?? '';
  const handler = await loadHandler<Handler>('events', { tableName: table.tableName, env: { AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint } });
  const physical = { tableName: table.tableName, streamLabel: streamArn.split('/stream/')[1] };
  poller = new StreamPoller({
    streams: guardClient(streamsClient(), 'events', physical),
    streamArn,
    region: 'us-east-1',
    config: readStreamEvent('events'),
    invoke: (event) => handler(event, context),
    onFailure: (failure) => failures.push(failure),
  });
});
afterAll(async () => {
  await bus.stop();
  await table.drop();
});

/** Polls until the stream is drained (two empty reads). */
async function drain(): Promise<void> {
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) {
    const result = await poller.pollOnce();
    quiet = result.read === 0 ? quiet + 1 : 0;
  }
}

const ids = (detailType: string) => bus.events.filter((e) => e.detailType === detailType).map((e) => (e.detail as { id: string }).id);

describe('events to EventBridge', () => {
  it('publishes a missed call, its callback opening and its resolution, each once with a stable id', async () => {
    const phone = '+14155558100';
    const classified = classifyStatusCallback(statusCallback({ From: phone, Timestamp: 'Tue, 24 Nov 2026 09:00:00 +0000' }), false);
    if (classified.kind !== 'missed') throw new Error('not missed');
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    await ledger.record(classified.call);
    await ledger.record(classified.call);
    const pending = parsePendingCall(callItem(classified.call, new Date(), 90));
    if (pending === undefined) throw new Error('no pending call');
    await createContactsStore(table.as('contacts'), { tableName: table.tableName }).apply(pending);
    const resolving = callSid();
    await createCallbackResolver(table.as('webhook'), { tableName: table.tableName }).resolve(phone, {
      id: resolving,
      at: '2026-11-24T09:30:00.000Z',
      by: 'callback',
    });
    await drain();
    expect(ids('Missed call recorded')).toEqual([`missed-call-recorded:${classified.call.rootCallSid}`]);
    expect(ids('Callback opened')).toEqual([`callback-opened:${phone}:2026-11-24T09:00:00.000Z`]);
    expect(ids('Callback resolved')).toEqual([`callback-resolved:${phone}:${resolving}:1`]);
    const resolved = bus.events.find((e) => e.detailType === 'Callback resolved');
    expect(resolved).toMatchObject({
      source: 'missed-call-ledger',
      eventBusName: 'default',
      detail: { phone, resolvedBy: 'callback', secondsToCallback: 1800, missedCount: 1 },
    });
    expect(failures).toEqual([]);
  });

  it('retries a refused entry from its record and publishes the later ones once', async () => {
    const before = bus.events.length;
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    const calls = [0, 1, 2].map((i) => {
      const c = classifyStatusCallback(statusCallback({ From: 'anonymous', Timestamp: `Tue, 24 Nov 2026 1${i}:00:00 +0000` }), false);
      if (c.kind !== 'missed') throw new Error('not missed');
      return c.call;
    });
    for (const call of calls) await ledger.record(call);
    bus.refuse(1);
    await drain();
    const published = bus.events.slice(before).map((e) => (e.detail as { callSid: string }).callSid);
    expect(published.sort()).toEqual(calls.map((c) => c.rootCallSid).sort());
    expect(failures).toEqual([]);
  });
});
