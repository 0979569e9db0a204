/**
 * `npm run demo`: the whole system on a day of simulated Twilio traffic. Starts the local
 * stack (or uses a running one with --target, --key and --twilio-api), plays the day with some
 * webhooks lost, runs the reconciliation, then prints the ground truth beside what GET /stats
 * and GET /contacts report. Exit status 0 only if they agree exactly; leaves nothing running.
 */
import { parseCli, progress, registerCalls, share, whole } from '../lib/dev/cli.js';
import { LOCAL_DEFAULTS } from '../lib/dev/defaults.js';
import { planDay, sendDay } from '../lib/dev/simulator.js';
import { type LocalStack, startLocalStack } from '../lib/dev/stack.js';

const args = parseCli();
const started = Date.now();

async function getJson(stack: DemoTarget, path: string, method = 'GET'): Promise<unknown> {
  const response = await fetch(`${stack.target}${path}`, { method, headers: { 'x-api-key': stack.key } });
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

type StatsBody = { totals: Record<string, number>; bySource: Record<string, number>; anonymous: number; contactsCreated: number };
function isStats(value: unknown): value is StatsBody {
  return typeof value === 'object' && value !== null && 'totals' in value && 'bySource' in value;
}

async function stats(stack: DemoTarget, from: string, to: string): Promise<StatsBody> {
  const body = await getJson(stack, `/stats?from=${from}&to=${to}`);
  if (!isStats(body)) throw new Error('GET /stats answered something else');
  return body;
}

async function contactCounts(stack: DemoTarget, since: string, numbers: ReadonlySet<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page = await getJson(
      stack,
      `/contacts?limit=100&since=${encodeURIComponent(since)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (typeof page !== 'object' || page === null || !('items' in page) || !Array.isArray(page.items))
      throw new Error('GET /contacts answered something else');
    for (const item of page.items) if (numbers.has(item.phone)) counts.set(item.phone, item.missedCount);
    cursor = 'nextCursor' in page && typeof page.nextCursor === 'string' ? page.nextCursor : null;
  } while (cursor !== null);
  return counts;
}

/** The stack the demo talks to: one given with --target, or its own through npm start. */
type DemoTarget = Pick<LocalStack, 'target' | 'key' | 'twilioApi' | 'stop'>;
const stack: DemoTarget = args.target
  ? {
      target: args.target.replace(/\/+$/, ''),
      key: args.key ?? process.env.OPERATOR_API_KEY ?? '',
      twilioApi: args['twilio-api'] ?? '',
      stop: async () => null,
    }
  : await startLocalStack();

let agree = false;
try {
  const seed = whole(args.seed, 'seed', 42, 2 ** 32);
  const now = Date.now();
  const from = new Date(now - 50 * 60_000);
  const plan = planDay({
    calls: whole(args.calls, 'calls', 300),
    seed,
    accountSid: args['account-sid'] ?? LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
    from,
    to: new Date(now - 10 * 60_000),
  });
  const days = { from: from.toISOString().slice(0, 10), to: new Date(now).toISOString().slice(0, 10) };
  if (stack.twilioApi)
    await registerCalls(
      stack.twilioApi,
      plan.calls.flatMap((c) => c.legs),
    );
  const before = await stats(stack, days.from, days.to);
  const sent = await sendDay(plan, {
    target: stack.target,
    authToken: args.token ?? LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
    drop: share(args.drop, 'drop', 0.05),
    duplicates: share(args.duplicates, 'duplicates', 0.1),
    concurrency: whole(args.concurrency, 'concurrency', 8, 256),
    seed,
    onProgress: progress('calls'),
  });
  const reconciled = await getJson(stack, '/reconcile', 'POST');

  // Contacts arrive through the stream: wait until they agree (or 30 s pass).
  const numbers = new Set(plan.truth.contacts.keys());
  let contacts = new Map<string, number>();
  for (let waited = 0; waited < 30_000; waited += 500) {
    contacts = await contactCounts(stack, new Date(from.getTime() - 60_000).toISOString(), numbers);
    const total = [...contacts.values()].reduce((a, b) => a + b, 0);
    const after = await stats(stack, days.from, days.to);
    if (total === plan.truth.missed - plan.truth.anonymous && after.anonymous - before.anonymous === plan.truth.anonymous) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const after = await stats(stack, days.from, days.to);
  const delta = (pick: (s: StatsBody) => number) => pick(after) - pick(before);

  const rows: [string, number, number][] = [
    ['missed calls', plan.truth.missed, delta((s) => s.totals.total ?? 0)],
    ...(['no-answer', 'busy', 'failed'] as const).map((status): [string, number, number] => [
      `  ${status}`,
      plan.truth.byStatus[status],
      delta((s) => s.totals[status] ?? 0),
    ]),
    ...(['webhook', 'dial-action', 'reconcile'] as const).map((source): [string, number, number] => [
      `  source ${source}`,
      sent.expectedBySource[source],
      delta((s) => s.bySource[source] ?? 0),
    ]),
    ['anonymous callers', plan.truth.anonymous, delta((s) => s.anonymous)],
    ['contacts created', numbers.size, delta((s) => s.contactsCreated)],
    ['contacts listed', numbers.size, contacts.size],
    ['missed calls on contacts', plan.truth.missed - plan.truth.anonymous, [...contacts.values()].reduce((a, b) => a + b, 0)],
  ];
  const wrongContacts = [...plan.truth.contacts].filter(([phone, count]) => contacts.get(phone) !== count);
  agree = rows.every(([, truth, ledger]) => truth === ledger) && wrongContacts.length === 0;

  console.log(
    `\nA day of Twilio traffic: ${plan.calls.length} calls, ${sent.callbacks} callbacks, ${sent.dropped} dropped (lost webhooks), ${sent.duplicated} delivered twice, seed ${seed}`,
  );
  console.log(`Reconciliation: ${JSON.stringify(reconciled)}\n`);
  console.log(`${'what'.padEnd(26)}${'ground truth'.padStart(13)}${'ledger'.padStart(9)}`);
  for (const [what, truth, ledger] of rows)
    console.log(`${what.padEnd(26)}${String(truth).padStart(13)}${String(ledger).padStart(9)}  ${truth === ledger ? 'ok' : 'DIFFERENT'}`);
  for (const [phone, count] of wrongContacts.slice(0, 10))
    console.log(`  contact ${phone}: truth ${count}, ledger ${contacts.get(phone) ?? 0}`);
  console.log(
    `\n${agree ? 'The ledger agrees with the ground truth.' : 'The ledger DOES NOT agree with the ground truth.'} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
} finally {
  await stack.stop();
}
process.exitCode = agree ? 0 : 1;
