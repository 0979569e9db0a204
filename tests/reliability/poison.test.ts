/**
 * Stream consumer: poison records among many good ones, through serverless.yml's contacts
 * mapping on the table's real stream (partial batch failures, bounded retries, bisection).
 * Each poison record reaches the on-failure destination once; every other record is applied
 * once, and replaying the whole stream changes nothing.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable } from '../../dev/table.js';
import { classifyStatusCallback, customerNumber } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { contactKey } from '../../lib/table/keys.js';
import { contactsPoller, freshTable, LEDGER_SETTINGS, statusCallback } from '../helpers.js';
import { FULL, finishScenario, report, SCENARIO_TIMEOUT_MS } from './scale.js';

const CALLS = FULL ? 500 : 8;
const POISON = FULL ? 10 : 1;
/**
 * Where in each stretch of CALLS / POISON records the poison one sits. Lambda retries a batch
 * from its first failure, then bisects: the later the poison record, the fewer good records each
 * retry re-sends (small: 2 of 8 then bisected, so that the scenario stays within seconds).
 */
const OFFSET = FULL ? 7 : 6;

let table: Awaited<ReturnType<typeof freshTable>>;
let streamArn: string;

beforeAll(async () => {
  table = await freshTable();
  streamArn = (await createTable(table.client, table.tableName)).streamArn ?? '';
});
afterAll(async () => {
  await finishScenario('4 stream poison records');
  await table.drop();
});

const sidOf = (r: DynamoDBRecord) => r.dynamodb?.NewImage?.callSid?.S;

describe('stream consumer', () => {
  it(
    `sends ${POISON} poison records of ${CALLS} to the on-failure destination and applies the rest once`,
    async () => {
      const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
      // Each call's root ends no-answer (the number's status callback): decided missed at once,
      // and its contact work asked for (`contactPending`): one stream record for the contacts each.
      const reports = Array.from({ length: CALLS }, (_, i) =>
        classifyStatusCallback(statusCallback({ From: `+1415555${String(i).padStart(4, '0')}` })),
      );
      for (let i = 0; i < reports.length; i += 25) {
        const results = await Promise.all(reports.slice(i, i + 25).map((report) => ledger.record(report)));
        if (results.some((r) => r.outcome !== 'missed' || r.counted !== 'new')) throw new Error('fixture is not a missed call');
      }
      const calls = reports.map((report) => ({ rootCallSid: report.rootCallSid, customer: report.root && customerNumber(report.root) }));
      // Spread through the stream: every (CALLS / POISON)th call's record is corrupted in delivery.
      const poison = new Set(calls.filter((_, i) => i % (CALLS / POISON) === OFFSET).map((c) => c.rootCallSid));
      const faulty = contactsPoller(table, streamArn, {
        tamper: (records) =>
          records.map((r) => {
            const sid = sidOf(r);
            if (sid === undefined || !poison.has(sid)) return r;
            return { ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb?.NewImage, status: { S: 'exploded' } } } };
          }),
      });

      report.faultsInjected += poison.size;
      await faulty.instance.pollOnce();
      const delivered = faulty.invocations.flat().length;
      report.deliveries += delivered;

      const failed = faulty.failures.flatMap((f) => f.records.map(sidOf));
      const get = async (phone: string) =>
        (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: contactKey(phone) }, ConsistentRead: true }))).Item;
      const contacts = await Promise.all(calls.map((c) => get(c.customer ?? '')));
      const good = calls.map((c, i) => ({ call: c, contact: contacts[i] })).filter(({ call }) => !poison.has(call.rootCallSid));
      report.recordsLost += good.filter(({ contact }) => contact === undefined).length;
      report.recordsLost += [...poison].filter((sid) => !failed.includes(sid)).length;
      report.doubleCounts += good.filter(({ contact }) => Number(contact?.missedCount ?? 0) > 1).length;
      report.doubleCounts += failed.length - new Set(failed).size;

      expect(new Set(failed)).toEqual(poison);
      expect(failed).toHaveLength(POISON);
      expect(good.map(({ contact }) => contact?.missedCount)).toEqual(good.map(() => 1));
      for (const sid of poison) expect(await get(calls.find((c) => c.rootCallSid === sid)?.customer ?? '')).toBeUndefined();

      // A second mapping replaying the whole stream, untampered: the poison records' real
      // versions are applied once, nothing else moves.
      const replay = contactsPoller(table, streamArn);
      await replay.instance.pollOnce();
      report.deliveries += replay.invocations.flat().length;
      report.duplicates = report.deliveries - CALLS;
      const after = await Promise.all(calls.map((c) => get(c.customer ?? '')));
      report.doubleCounts += after.filter((contact) => Number(contact?.missedCount ?? 0) > 1).length;
      report.recordsLost += after.filter((contact) => contact === undefined).length;
      expect(replay.failures).toEqual([]);
      expect(after.map((contact) => contact?.missedCount)).toEqual(calls.map(() => 1));
    },
    SCENARIO_TIMEOUT_MS,
  );
});
