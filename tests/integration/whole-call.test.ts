/**
 * The whole-call rule on DynamoDB Local, through the webhook's own route table and the ledger:
 * every flow of tests/flows.ts delivered in order, in reverse, parent first, and in random orders
 * with duplicates (fast-check), with the root's end lost (the settle sweep decides), and each
 * time the same outcome, reason and exact day counters.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContact } from '../../lib/contacts/item.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { parsePendingCall } from '../../lib/ledger/call-item.js';
import { settleDue } from '../../lib/ledger/settle.js';
import { createLedger, type Ledger } from '../../lib/ledger/store.js';
import { callKey, contactKey } from '../../lib/table/keys.js';
import { parseWebhookConfig } from '../../lib/webhook/config.js';
import { ROUTES } from '../../lib/webhook/handle.js';
import { type Delivery, type Flow, flows } from '../flows.js';
import { ACCOUNT_SID, AUTH_TOKEN, dayTotals, freshTable } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
let ledger: Ledger;
const config = parseWebhookConfig({
  TABLE_NAME: 'unused',
  TWILIO_ACCOUNT_SID: ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  OUTCOME_SETTLE_SECONDS: '10',
});
const DAY = '2026-11-24';
// Callbacks arrive at the call's end; the settle sweep runs a minute later.
const NOW = new Date('2026-11-24T15:05:00.000Z');
const LATER = new Date(NOW.getTime() + 60_000);

beforeAll(async () => {
  table = await freshTable();
  ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: config.ledger });
});
afterAll(async () => {
  await table.drop();
});

async function deliver(deliveries: readonly Delivery[]): Promise<void> {
  for (const delivery of deliveries) {
    const route = ROUTES.get(delivery.route);
    if (route === undefined) throw new Error(`no route ${delivery.route}`);
    await ledger.record(route.classify(delivery.params, config, { next: undefined }), NOW);
  }
}

const item = async (root: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: callKey(root) }, ConsistentRead: true }))).Item;

/** What the ledger ended with for a flow: its outcome, and what the day counters hold for it. */
async function ledgerSays(flow: Flow) {
  await settleDue(table.docs, table.tableName, ledger, LATER);
  const call = await item(flow.root);
  return {
    // No item, or an ended one with no outcome out of the settle index: TwiML alone handled it.
    outcome:
      call === undefined
        ? 'not-missed'
        : (call.outcome ?? (call.endedAt !== undefined && call.gsi1pk === undefined ? 'not-missed' : 'undecided')),
    reason: call?.reason,
    status: call?.outcome === 'missed' ? call.status : undefined,
    settling: call?.gsi1pk !== undefined,
    voicemail: call?.voicemail,
  };
}

const expectedOf = (flow: Flow) =>
  flow.expected.outcome === 'missed'
    ? { outcome: 'missed', reason: flow.expected.reason, status: flow.expected.status, settling: false, voicemail: flow.voicemail }
    : { outcome: flow.expected.outcome, reason: undefined, status: undefined, settling: false, voicemail: undefined };

/** The day's counters, less a baseline. */
async function countersSince(before: Record<string, number>): Promise<Record<string, number>> {
  const after = await dayTotals(table.docs, table.tableName, DAY);
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
}

const countersFor = (flow: Flow) =>
  flow.expected.outcome === 'missed' ? { total: 1, [`status:${flow.expected.status}`]: 1, [`reason:${flow.expected.reason}`]: 1 } : {};

/** The counters without the `source:` one, which says what decided (the delivery order's doing). */
const withoutSource = (counters: Record<string, number>) =>
  Object.fromEntries(Object.entries(counters).filter(([name]) => !name.startsWith('source:')));

describe('the whole-call rule on DynamoDB Local', () => {
  const orders: [string, (d: Delivery[]) => Delivery[]][] = [
    ['as sent', (d) => d],
    ['reversed (the root end first)', (d) => [...d].reverse()],
    ['each callback twice, interleaved', (d) => [...d, ...d]],
  ];
  for (const [name, order] of orders) {
    it(`decides every flow right, delivered ${name}, with exact counters`, async () => {
      for (const flow of flows(orders.findIndex(([n]) => n === name))) {
        const before = await dayTotals(table.docs, table.tableName, DAY);
        await deliver(order(flow.deliveries));
        expect({ flow: flow.name, ...(await ledgerSays(flow)) }).toEqual({ flow: flow.name, ...expectedOf(flow) });
        const counters = await countersSince(before);
        expect({ flow: flow.name, ...withoutSource(counters) }).toEqual({ flow: flow.name, ...countersFor(flow) });
        const sources = Object.entries(counters).filter(([n]) => n.startsWith('source:'));
        expect(sources.reduce((sum, [, n]) => sum + n, 0)).toBe(flow.expected.outcome === 'missed' ? 1 : 0);
      }
    });
  }

  it('decides a call whose final callback was lost from its other evidence, once it settles', async () => {
    // Without the root's end, its CallDuration is unknown: a short hang-up cannot be told apart.
    const withoutEnd: Record<string, string | undefined> = {
      'caller hangs up within 10 s (a misdial)': 'abandoned',
      'hang-up while ringing, reported no-answer': 'no-answer',
    };
    for (const flow of flows(10)) {
      const before = await dayTotals(table.docs, table.tableName, DAY);
      await deliver(flow.deliveries.filter((d) => !d.rootEnd));
      const says = await ledgerSays(flow);
      if (flow.name === 'an IVR alone handles the call') {
        // Nothing but its end: nothing was ever written.
        expect(says.outcome).toBe('not-missed');
        continue;
      }
      const reason = withoutEnd[flow.name] ?? (flow.expected.outcome === 'missed' ? flow.expected.reason : undefined);
      expect({ flow: flow.name, outcome: says.outcome, reason: says.reason }).toEqual({
        flow: flow.name,
        outcome: flow.expected.outcome,
        reason,
      });
      const counters = await countersSince(before);
      // An action whose reply ended the call decides it; with neither, the sweep does.
      const action = flow.deliveries.find((d) => d.route !== '/twilio/call-status')?.route;
      const source = action === '/twilio/dial-status' ? 'dial-action' : action === '/twilio/queue-status' ? 'queue-action' : 'settle';
      if (flow.expected.outcome === 'missed')
        expect(counters).toMatchObject({ total: 1, [`source:${source}`]: 1, [`reason:${reason}`]: 1 });
      else expect(counters).toEqual({});
    }
  });

  it("puts the newest voicemail on the caller's open callback, its transcript too, whether the contact catches up between callbacks or after them all", async () => {
    const contacts = createContactsStore(table.as('contacts'), { tableName: table.tableName });
    // The contacts function does what the call item asks for, as its stream record would.
    const catchUp = async (root: string) => {
      const call = await item(root);
      const work = call === undefined ? undefined : parsePendingCall(call);
      if (work !== undefined) await contacts.apply(work, NOW);
    };
    const openCallbackOf = async (caller: string) => {
      const got = await table.docs.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: contactKey(caller) }, ConsistentRead: true }),
      );
      return got.Item === undefined ? undefined : parseContact(got.Item).callback;
    };
    let n = 0;
    for (const [name, order] of orders) {
      for (const eager of [true, false]) {
        const withMessage = flows(70 + n++).filter((f) => f.voicemail !== undefined && f.expected.outcome === 'missed');
        expect(withMessage.length).toBe(2);
        for (const flow of withMessage) {
          for (const delivery of order(flow.deliveries)) {
            await deliver([delivery]);
            if (eager) await catchUp(flow.root);
          }
          await catchUp(flow.root);
          // The truth is the flow's: the message Twilio recorded and the transcript it sent.
          expect({ flow: flow.name, order: name, eager, voicemail: (await openCallbackOf(flow.caller))?.voicemail }).toEqual({
            flow: flow.name,
            order: name,
            eager,
            voicemail: flow.voicemail,
          });
          const call = await item(flow.root);
          expect(call?.contactPending).toBeUndefined();
        }
      }
    }
  });

  it('ends with the same outcome and counters in any order of delivery, duplicated (property)', async () => {
    const all = flows(11);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: all.length - 1 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        async (which, keys, twice) => {
          // Fresh SIDs each run: the same flow, a new call.
          const flow = flows(20 + (n++ % 40))[which] as Flow;
          const deliveries = flow.deliveries.flatMap((d, i) => (twice[i] ? [d, d] : [d]));
          const order = deliveries.map((d, i) => ({ d, k: keys[i % keys.length] ?? 0 })).sort((a, b) => a.k - b.k);
          const before = await dayTotals(table.docs, table.tableName, DAY);
          await deliver(order.map(({ d }) => d));
          expect(await ledgerSays(flow)).toEqual(expectedOf(flow));
          expect(withoutSource(await countersSince(before))).toEqual(countersFor(flow));
        },
      ),
      { numRuns: 15 },
    );
    expect(all.length).toBeGreaterThan(10);
  });
});
