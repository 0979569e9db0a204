/**
 * Reconciliation under Twilio's faults, run after run on one window as the schedule would:
 * a 429 storm beyond the client's bound, a crash between pages, a page slower than the time
 * left, then 429s and 500s within the bound. Until a run finishes the watermark stays; after
 * it, every missed call Twilio knows is in the ledger once, whatever the webhook had recorded.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCall, newCallSid, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createLedger, createReconcileLedger } from '../../lib/ledger/store.js';
import { countRequests } from '../../lib/platform/aws.js';
import { ReconcileDeadlineError, reconcile, reconcileOptions, WINDOW_DEFAULTS } from '../../lib/reconcile/reconcile.js';
import { createWatermark } from '../../lib/reconcile/watermark.js';
import { callKey, WATERMARK_KEY } from '../../lib/table/keys.js';
import { createTwilioCalls, TwilioUnavailableError } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN, freshTable, LEDGER_SETTINGS, scanAll, webhookReport } from '../helpers.js';
import { FULL, finishScenario, report, SCENARIO_TIMEOUT_MS } from './scale.js';

/** Missed calls Twilio knows, per status (no-answer spans more than one page). */
const SEEDED = FULL ? { 'no-answer': 3_600, busy: 1_800, failed: 600 } : { 'no-answer': 30, busy: 8, failed: 4 };
/** Twilio's page size: the largest in the large run, small pages in npm test. */
const PAGE_SIZE = FULL ? 1000 : 20;

let api: TwilioApi;
let table: Awaited<ReturnType<typeof freshTable>>;

beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
  table = await freshTable();
});
afterAll(async () => {
  await finishScenario('5 reconciliation faults');
  await api.stop();
  await table.drop();
});

const NOW = new Date('2026-11-24T03:00:00.000Z');
const options = reconcileOptions({ accountSid: ACCOUNT_SID, outcome: LEDGER_SETTINGS, callbackMinSeconds: 10, ...WINDOW_DEFAULTS });

/** One run's dependencies; `hooks` see each listed page and may end the run there. */
function run(hooks: { deadlineMs?: () => number; afterPage?: (pageNumber: number) => void } = {}) {
  const twilio = createTwilioCalls({
    accountSid: ACCOUNT_SID,
    username: ACCOUNT_SID,
    password: AUTH_TOKEN,
    baseUrl: api.baseUrl,
    sleep: async () => {},
    deadlineMs: hooks.deadlineMs,
    pageSize: PAGE_SIZE,
  });
  const list = twilio.list.bind(twilio);
  let pages = 0;
  twilio.list = async function* (status, from, to, pageUrl) {
    for await (const page of list(status, from, to, pageUrl)) {
      report.deliveries += page.calls.length;
      yield page;
      pages += 1;
      hooks.afterPage?.(pages);
    }
  };
  return reconcile(
    {
      twilio,
      ledger: createReconcileLedger(table.as('reconcile'), {
        tableName: table.tableName,
        retentionDays: 90,
        settings: LEDGER_SETTINGS,
        sleep: async () => {},
      }),
      watermark: createWatermark(table.as('reconcile'), table.tableName),
      dynamoRequests: countRequests(table.as('reconcile')),
      now: () => NOW,
    },
    options,
  );
}

const watermark = async () =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk: WATERMARK_KEY }, ConsistentRead: true }))).Item;

describe('reconciliation faults', () => {
  it(
    'keeps the watermark through a 429 storm, a crash, a slow page, then records every missed call once',
    async () => {
      const seeded: LocalCall[] = [];
      const total = Object.values(SEEDED).reduce((a, b) => a + b, 0);
      // Spread over 44 hours of the 48-hour first window, so over three days' counters.
      const span = 44 * 3_600_000;
      for (const [status, count] of Object.entries(SEEDED) as [LocalCall['status'], number][]) {
        for (let i = 0; i < count; i++) {
          seeded.push({
            sid: newCallSid(),
            from: `+1415${String(5_000_000 + seeded.length).padStart(7, '0')}`,
            to: '+14155559876',
            status,
            direction: 'inbound',
            startTime: new Date(NOW.getTime() - 45 * 3_600_000 + Math.floor((seeded.length * span) / total)),
          });
        }
      }
      api.calls.push(...seeded);
      // A third of them reached the webhook before the runs.
      const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
      const delivered = seeded.filter((_, i) => i % 3 === 0);
      for (let i = 0; i < delivered.length; i += 25) {
        await Promise.all(delivered.slice(i, i + 25).map((call) => ledger.record(webhookReport(call))));
      }
      const outcomes: string[] = [];
      const moved = async () => {
        if ((await watermark()) !== undefined) report.acknowledgedUnrecorded += 1;
      };

      // 1. A 429 storm longer than the client's 6 attempts: the run fails, nothing acknowledged.
      api.faults.push({ kind: 'status', status: 429, times: 8 });
      outcomes.push(
        await run().then(
          () => 'finished',
          (e: unknown) => (e instanceof TwilioUnavailableError ? 'unavailable' : String(e)),
        ),
      );
      await moved();

      // 2. The Lambda dies between pages (after the first page is recorded).
      outcomes.push(
        await run({
          afterPage: () => {
            throw new Error('Runtime exited (injected crash between pages)');
          },
        }).then(
          () => 'finished',
          (e: unknown) => (String(e).includes('injected crash') ? 'crashed' : String(e)),
        ),
      );
      await moved();

      // 3. The second page takes 4 s with 0.5 s left: abandoned, a clean stop.
      let end = Number.POSITIVE_INFINITY;
      outcomes.push(
        await run({
          deadlineMs: () => end - Date.now(),
          afterPage: (n) => {
            if (n !== 1) return;
            api.faults.push({ kind: 'delay', ms: 4_000, times: 1 });
            end = Date.now() + 500;
          },
        }).then(
          () => 'finished',
          (e: unknown) => (e instanceof ReconcileDeadlineError ? 'deadline' : String(e)),
        ),
      );
      await moved();
      api.faults.length = 0;

      // 4. 429s and 500s within the bound: the run rides them out and finishes the window.
      api.faults.push({ kind: 'status', status: 429, times: 3 }, { kind: 'status', status: 500, times: 2 });
      const summary = await run();
      outcomes.push('finished');

      const faults = api.requests.filter((r) => r.status === 429 || r.status >= 500).length + 2; // + the crash and the slow page
      report.faultsInjected += faults;
      report.deliveries += delivered.length;
      report.duplicates = report.deliveries - total;
      const items = await scanAll(table.docs, table.tableName);
      // Recorded means decided and counted: a failed run leaves its calls' ends as evidence, which
      // only a finished run (or the settle sweep) decides.
      const stored = new Set(items.filter((i) => i.type === 'call' && i.outcome === 'missed').map((i) => String(i.pk)));
      const undecided = items.filter((i) => i.type === 'call' && i.outcome === undefined).length;
      const stats = items.filter((i) => i.type === 'stats');
      const counted = stats.reduce((sum, i) => sum + Number(i.total ?? 0), 0);
      report.recordsLost += seeded.filter((c) => !stored.has(callKey(c.sid))).length;
      report.doubleCounts += Math.max(0, stored.size - total) + Math.max(0, counted - total);
      console.log(
        `[reliability] reconcile: runs ${outcomes.join(', ')}; ${faults} faults; last run listed ${summary.listed} on ${summary.pages} pages, recovered ${summary.recoveredTotal}, ${summary.twilioRequests} Twilio requests`,
      );

      expect(outcomes).toEqual(['unavailable', 'crashed', 'deadline', 'finished']);
      // No failed run moved the watermark (it is the run's acknowledgement of its window).
      expect(report.acknowledgedUnrecorded).toBe(0);
      expect(summary.listed).toBe(total);
      // Its pages (each of the 5 statuses: no-answer, busy, failed, canceled, completed) and the 5
      // refused attempts, nothing per call.
      expect(summary.twilioRequests).toBe(summary.pages + 5);
      const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE_SIZE));
      expect(summary.pages).toBe(pages(SEEDED['no-answer']) + pages(SEEDED.busy) + pages(SEEDED.failed) + 1 + 1);
      expect(undecided).toBe(0);
      expect(stored.size).toBe(total);
      expect(counted).toBe(total);
      for (const status of Object.keys(SEEDED) as (keyof typeof SEEDED)[])
        expect(stats.reduce((sum, i) => sum + Number(i[`status:${status}`] ?? 0), 0)).toBe(SEEDED[status]);
      expect(await watermark()).toMatchObject({ windowEnd: summary.window.to });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
