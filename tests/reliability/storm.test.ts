/**
 * Storm: many concurrent deliveries for one root call (the parent's `completed`, three child
 * legs, the Dial action, all repeated) through the webhook handler, then the contacts stream:
 * one record, one contact increment, the day's counters +1.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '../../dev/table.js';
import { callKey } from '../../lib/table/keys.js';
import { callSid, contactsPoller, dialAction, freshTable, scanAll, statusCallback } from '../helpers.js';
import {
  coldStartWebhook,
  FULL,
  finishScenario,
  lambdaContext,
  redeliverFailures,
  report,
  SCENARIO_TIMEOUT_MS,
  signedEvent,
  type WebhookHandler,
} from './scale.js';

const context = lambdaContext('storm');
const DELIVERIES = FULL ? 2_000 : 60;

let table: Awaited<ReturnType<typeof freshTable>>;
let handler: WebhookHandler;
let streamArn: string;

beforeAll(async () => {
  table = await freshTable();
  streamArn = (await createTable(table.client, table.tableName)).streamArn ?? '';
  handler = await coldStartWebhook(table.tableName);
});
afterAll(async () => {
  await finishScenario('1 storm');
  await table.drop();
});

describe('storm', () => {
  it(
    `${DELIVERIES} concurrent deliveries for one root leave one record, one contact increment, counters +1`,
    async () => {
      const parent = callSid();
      const caller = '+14155550155';
      const day = 'Tue, 24 Nov 2026 09:00:00 +0000';
      const children = [callSid(), callSid(), callSid()];
      const kinds: { resource: string; params: Record<string, string> }[] = [
        // The parent's end: TwiML answered it, the caller waited 31 s while the three phones rang
        // out (a `CallDuration` under SHORT_ABANDON_SECONDS would make it a short hang-up, which
        // opens no callback: no contact).
        {
          resource: '/twilio/call-status',
          params: statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '31', From: caller, Timestamp: day }),
        },
        ...children.map((sid) => ({
          resource: '/twilio/call-status',
          params: statusCallback({
            CallSid: sid,
            ParentCallSid: parent,
            Direction: 'outbound-dial',
            From: '+14155559876',
            To: '+14155550181',
            Timestamp: day,
          }),
        })),
        { resource: '/twilio/dial-status', params: dialAction({ CallSid: parent, From: caller, DialCallSid: children[0] ?? '' }) },
      ];
      const events = Array.from({ length: DELIVERIES }, (_, i) => {
        const kind = kinds[i % kinds.length] ?? kinds[0];
        if (kind === undefined) throw new Error('no kind');
        return signedEvent(kind.params, kind.resource);
      });

      const first = await Promise.all(events.map((event) => handler(event, context)));
      report.deliveries += DELIVERIES;
      // Under a storm a delivery may get a 503 (its transaction lost every retry to conflicts):
      // Twilio re-delivers it (#rc=3&rp=all), which this does (at most 200 at a time, 3 rounds).
      const responses = [...first];
      report.deliveries += await redeliverFailures(responses, (i) => handler(events[i] ?? ({} as APIGatewayProxyEvent), context), {
        rounds: 3,
      });
      report.duplicates = report.deliveries - kinds.length;
      const firstRound503 = first.filter((r) => r.statusCode === 503).length;
      console.log(`[reliability] storm: ${firstRound503} of ${DELIVERIES} first deliveries answered 503 (conflicts), re-delivered`);

      const poller = contactsPoller(table, streamArn);
      await poller.instance.pollOnce();
      report.recordsLost += poller.failures.length;

      const items = await scanAll(table.docs, table.tableName);
      const calls = items.filter((i) => i.type === 'call');
      const get = async (pk: string) =>
        (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;
      // The day is the call's start once its root's end is known (its Timestamp less its
      // CallDuration); a decision made before, from a leg's Timestamp or (a Dial action has none)
      // the instant it was recorded, is moved to it with the counters' difference. Whichever
      // decided first, one day counts the call once and every other day nets to 0.
      const byDay = new Map<string, number>();
      for (const i of items.filter((i) => i.type === 'stats'))
        byDay.set(String(i.day), (byDay.get(String(i.day)) ?? 0) + Number(i.total ?? 0));
      const dayTotals = [...byDay.values()].filter((n) => n !== 0);
      const contact = await get(`CONTACT#${caller}`);
      if (calls.length === 0) report.acknowledgedUnrecorded += responses.filter((r) => r.statusCode < 300).length;
      report.doubleCounts += Math.max(0, dayTotals.reduce((a, b) => a + b, 0) - 1) + Math.max(0, Number(contact?.missedCount ?? 0) - 1);

      // Invariants, not speed: a loaded emulator may still answer some re-deliveries 503 after
      // Twilio's rounds (they would go to the reconciliation). What was acknowledged is recorded,
      // nothing is half-written, and nothing counts twice.
      const acknowledged = responses.map((r, i) => ({ r, event: events[i] })).filter(({ r }) => r.statusCode < 300);
      expect(responses.every((r) => [200, 204, 503].includes(r.statusCode))).toBe(true);
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(calls.map((c) => c.pk)).toEqual([callKey(parent)]);
      const ackedLegs = new Set(acknowledged.map(({ event }) => new URLSearchParams(event?.body ?? '').get('CallSid') ?? ''));
      for (const leg of ackedLegs) expect(calls[0]?.legSids).toContain(leg);
      expect(dayTotals).toEqual([1]);
      expect(byDay.get('2026-11-24')).toBe(1);
      // The whole call: three phones rang out while the caller waited 31 s.
      expect(calls[0]).toMatchObject({ outcome: 'missed', reason: 'no-answer', status: 'no-answer' });
      expect(contact).toMatchObject({ missedCount: 1, lastCallSid: parent });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
