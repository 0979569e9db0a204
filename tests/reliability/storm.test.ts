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
const DELIVERIES = FULL ? 2_000 : 100;

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
        {
          resource: '/twilio/call-status',
          params: statusCallback({ CallSid: parent, CallStatus: 'completed', From: caller, Timestamp: day }),
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
      // The day is the first recorded report's: a child leg's Timestamp, or (a Dial action has none)
      // the day it was recorded. Whichever it was, one day counts the call once.
      const dayTotals = items.filter((i) => i.type === 'stats').map((i) => Number(i.total ?? 0));
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
      expect(contact).toMatchObject({ missedCount: 1, lastCallSid: parent });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
