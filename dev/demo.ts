/**
 * The demo: a day of simulated Twilio traffic through a running stack, with some webhooks lost,
 * the reconciliation, then the ground truth beside what GET /stats and GET /contacts report.
 * Callers leave voicemails on some misses (issue 28): each message the ledger can know must show
 * on its call in GET /contacts/{phone} (recording, length, transcript) with its audio served by
 * GET /recordings/{sid}, and no other call may show one.
 * `npm run demo` (scripts/demo.ts) is its command line; the end-to-end test runs it in process.
 */

import { TTC_BOUNDS } from '../lib/callbacks/model.js';
import { mapLimit } from '../lib/platform/pool.js';
import { registerCalls } from './cli.js';
import { reconcileAndWait } from './reconcile-run.js';
import {
  callbackTruth,
  opensCallback,
  type Plan,
  planDay,
  REASONS,
  registerRecordings,
  type SendSummary,
  sendDay,
  textBackTruth,
  truthOf,
  type Voicemail,
} from './simulator.js';
import type { LocalStack } from './stack.js';

/** How often the demo looks again for what the stream brings (contacts, voicemails, texts). */
const POLL_MS = 200;

/** The stack the demo talks to. */
export type DemoTarget = Pick<LocalStack, 'target' | 'key' | 'twilioApi'> & Partial<Pick<LocalStack, 'events'>>;

export interface DemoOptions {
  calls: number;
  seed: number;
  accountSid: string;
  authToken: string;
  /** Shares from 0 to 1. */
  drop: number;
  duplicates: number;
  concurrency: number;
  /** The stack runs with TEXT_BACK=on: mark some callers opted out or not mobile, and compare the texts. */
  textBack?: boolean;
  /** Callers leave voicemails (default true), and the demo compares them. */
  voicemail?: boolean;
  onProgress?: (done: number, total: number) => void;
}

async function getJson(stack: DemoTarget, path: string, method = 'GET'): Promise<unknown> {
  const response = await fetch(`${stack.target}${path}`, { method, headers: { 'x-api-key': stack.key } });
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

type StatsBody = {
  textBack?: { sent: number; failed: Record<string, number>; skipped: Record<string, number>; unknown: number };
  totals: Record<string, number>;
  bySource: Record<string, number>;
  byReason: Record<string, number>;
  afterHours: number;
  anonymous: number;
  contactsCreated: number;
  openNow: number;
  callbacks: { opened: number; resolved: Record<string, number>; medianSecondsToCallback: number | null };
};
function isStats(value: unknown): value is StatsBody {
  return (
    typeof value === 'object' && value !== null && 'totals' in value && 'bySource' in value && 'callbacks' in value && 'openNow' in value
  );
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

/** Every outcome a text-back settles in (one per callback seen opening). */
const textBackOutcomes = (s: StatsBody['textBack']): number =>
  s === undefined
    ? 0
    : s.sent + s.unknown + Object.values(s.failed).reduce((a, b) => a + b, 0) + Object.values(s.skipped).reduce((a, b) => a + b, 0);

type BusEvent = { detailType: string; detail: { phone?: string } };
/** The callbacks the ledger saw open (the events function's `Callback opened`). */
async function openings(stack: DemoTarget): Promise<BusEvent[]> {
  if (!stack.events) throw new Error("--text-back needs the local EventBridge (the demo's own stack)");
  const body: unknown = await (await fetch(`${stack.events}/__local/events`)).json();
  if (!Array.isArray(body)) throw new Error('GET /__local/events answered something else');
  return (body as BusEvent[]).filter((e) => e.detailType === 'Callback opened');
}

/** What the local Twilio API was asked to send. */
async function localMessages(stack: DemoTarget): Promise<{ to: string }[]> {
  const response = await fetch(`${stack.twilioApi}/__local/messages`);
  const body: unknown = await response.json();
  if (!Array.isArray(body)) throw new Error('GET /__local/messages answered something else');
  return body.filter((m): m is { to: string } => typeof m === 'object' && m !== null && typeof m.to === 'string');
}

/** A call's voicemail as GET /contacts/{phone} shows it (`null`: the call is listed without one). */
type ShownVoicemail = { recordingSid?: unknown; durationSeconds?: unknown; transcript?: unknown; url?: unknown } | null;

/** GET with the operator key, again after a 5xx (a local function's cold start can outlast the gateway's wait). */
async function getJsonRetrying(stack: DemoTarget, path: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${stack.target}${path}`, { headers: { 'x-api-key': stack.key } });
    if (response.status === 200) return response.json();
    const text = await response.text();
    if (response.status < 500 || attempt === 4) throw new Error(`GET ${path}: ${response.status} ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

/** Every call GET /contacts/{phone} lists for these numbers, into `shown`: root CallSid → its voicemail. */
async function contactVoicemails(stack: DemoTarget, phones: readonly string[], shown: Map<string, ShownVoicemail>): Promise<void> {
  await mapLimit(phones, 4, async (phone) => {
    const body = await getJsonRetrying(stack, `/contacts/${encodeURIComponent(phone)}`);
    if (typeof body !== 'object' || body === null || !('calls' in body) || !Array.isArray(body.calls))
      throw new Error(`GET /contacts/${phone} answered something else`);
    for (const call of body.calls as { callSid?: unknown; voicemail?: ShownVoicemail }[]) {
      if (typeof call.callSid === 'string') shown.set(call.callSid, call.voicemail ?? null);
    }
  });
}

/** Whether a shown voicemail is the expected one: recording, length, transcript (or none), and the URL of its audio. */
const sameVoicemail = (shown: ShownVoicemail | undefined, expected: Voicemail): boolean =>
  shown !== undefined &&
  shown !== null &&
  shown.recordingSid === expected.recordingSid &&
  shown.durationSeconds === expected.durationSeconds &&
  shown.transcript === expected.transcript &&
  shown.url === `/recordings/${expected.recordingSid}`;

interface VoicemailCheck {
  /** Expected voicemails (on calls that make a contact). */
  left: number;
  /** Of those, shown exactly so on the call. */
  shown: number;
  /** Expected voicemails with a transcript, and those shown with it. */
  transcripts: number;
  transcriptsShown: number;
  /** Calls of the day shown with a voicemail the truth does not have. */
  unexpected: number;
  /** Expected voicemails on calls no contact lists (an anonymous caller's, a short-abandoned one's): not checked. */
  unchecked: number;
  /** What differs, a line each. */
  differences: string[];
  /** The numbers whose calls differ. */
  differingPhones: Set<string>;
}

/**
 * The voicemails the ledger shows beside the truth's: each miss that makes a contact (opens a
 * callback, a callable number, not left out of the truth) is looked up on its caller's
 * GET /contacts/{phone}, and must show exactly the voicemail `SendSummary.voicemails` expects
 * for it, or none. `shown` holds what was read before; only the numbers in `phones` (default:
 * all of them) are read again.
 */
async function checkVoicemails(
  stack: DemoTarget,
  plan: Plan,
  sent: SendSummary,
  shown: Map<string, ShownVoicemail>,
  phones?: ReadonlySet<string>,
): Promise<VoicemailCheck> {
  const calls = plan.calls.filter((c) => opensCallback(c) && !sent.unrecoverable.has(c.rootCallSid));
  const checked = new Set(calls.map((c) => c.rootCallSid));
  await contactVoicemails(
    stack,
    [...new Set(calls.map((c) => c.customer ?? ''))].filter((phone) => phones === undefined || phones.has(phone)),
    shown,
  );
  const check: VoicemailCheck = {
    left: 0,
    shown: 0,
    transcripts: 0,
    transcriptsShown: 0,
    unexpected: 0,
    unchecked: [...sent.voicemails.keys()].filter((root) => !checked.has(root) && !sent.unrecoverable.has(root)).length,
    differences: [],
    differingPhones: new Set(),
  };
  for (const call of calls) {
    const expected = sent.voicemails.get(call.rootCallSid);
    const ledger = shown.get(call.rootCallSid);
    if (expected === undefined) {
      if (ledger !== undefined && ledger !== null) {
        check.unexpected += 1;
        check.differingPhones.add(call.customer ?? '');
        check.differences.push(`${call.rootCallSid} (${call.flow}, ${call.customer}): truth none, ledger ${JSON.stringify(ledger)}`);
      }
      continue;
    }
    check.left += 1;
    if (expected.transcript !== undefined) check.transcripts += 1;
    if (sameVoicemail(ledger, expected)) {
      check.shown += 1;
      if (expected.transcript !== undefined) check.transcriptsShown += 1;
    } else {
      check.differingPhones.add(call.customer ?? '');
      check.differences.push(
        `${call.rootCallSid} (${call.flow}, ${call.customer}): truth ${JSON.stringify(expected)}, ledger ${JSON.stringify(ledger ?? 'call not listed')}`,
      );
    }
  }
  return check;
}

/** How many of the recordings GET /recordings/{sid} serves: 200, `audio/mpeg`, some bytes. */
async function servedAudio(stack: DemoTarget, sids: readonly string[]): Promise<number> {
  let served = 0;
  await mapLimit(sids, 4, async (sid) => {
    let response = await fetch(`${stack.target}/recordings/${sid}`, { headers: { 'x-api-key': stack.key, Accept: 'audio/mpeg' } });
    // Again after a 5xx (a local function's cold start), as for the contacts.
    for (let attempt = 1; response.status >= 500 && attempt < 4; attempt++) {
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      response = await fetch(`${stack.target}/recordings/${sid}`, { headers: { 'x-api-key': stack.key, Accept: 'audio/mpeg' } });
    }
    const body = await response.arrayBuffer();
    if (response.status === 200 && (response.headers.get('content-type') ?? '').startsWith('audio/mpeg') && body.byteLength > 0)
      served += 1;
  });
  return served;
}

/** The upper bound of the fine bucket that holds the lower median (as GET /stats reports it); -1 for none. */
function medianBucket(seconds: readonly number[]): number {
  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.ceil(sorted.length / 2) - 1];
  if (median === undefined) return -1;
  return TTC_BOUNDS.find((bound) => median <= bound) ?? -1;
}

/** Plays the day, prints the comparison through `log`, and says whether the ledger agrees. */
export async function runDemo(stack: DemoTarget, options: DemoOptions, log: (line: string) => void): Promise<boolean> {
  const startedAt = Date.now();
  const { seed } = options;
  const now = Date.now();
  const from = new Date(now - 50 * 60_000);
  const plan = planDay({
    calls: options.calls,
    seed,
    accountSid: options.accountSid,
    from,
    to: new Date(now - 10 * 60_000),
    voicemail: options.voicemail ?? true,
  });
  const days = { from: from.toISOString().slice(0, 10), to: new Date(now).toISOString().slice(0, 10) };
  if (stack.twilioApi) {
    await registerCalls(
      stack.twilioApi,
      plan.calls.flatMap((c) => c.legs),
    );
    // Twilio keeps every recording, whether or not its callback arrives.
    await registerRecordings(stack.twilioApi, plan.calls);
  }
  const before = await stats(stack, days.from, days.to);
  // Text-back: every 9th caller who only called in has replied STOP before, every 13th is a landline.
  const texts = options.textBack ? textBackTruth(plan) : undefined;
  const optedOut = texts?.inboundOnly.filter((_, i) => i % 9 === 4) ?? [];
  const landlines = texts?.inboundOnly.filter((_, i) => i % 13 === 7 && i % 9 !== 4) ?? [];
  if (texts !== undefined) {
    for (const [path, numbers] of [
      ['opt-outs', optedOut],
      ['landlines', landlines],
    ] as const) {
      const response = await fetch(`${stack.twilioApi}/__local/${path}`, { method: 'POST', body: JSON.stringify(numbers) });
      if (response.status !== 201) throw new Error(`the local Twilio API refused the ${path}: ${response.status}`);
    }
  }
  const sent = await sendDay(plan, {
    target: stack.target,
    authToken: options.authToken,
    drop: options.drop,
    duplicates: options.duplicates,
    concurrency: options.concurrency,
    seed,
    onProgress: options.onProgress,
  });
  // POST /reconcile answers 202 at once; the run goes on in the reconcile function's own invocations.
  const run = await reconcileAndWait(stack);
  if (run.state !== 'succeeded') throw new Error(`The reconciliation run ${run.runId} ${run.state}: ${run.error ?? ''}`);
  const reconciled = run.summary;

  // The truth is the whole calls' (Twilio's facts), less the queue misses whose Enqueue action was
  // lost: Twilio's REST API lists them as plain completed calls, so nothing can ever tell.
  const truth = truthOf(plan.calls.filter((c) => !sent.unrecoverable.has(c.rootCallSid)));
  const onContacts = [...truth.contacts.values()].reduce((a, b) => a + b, 0);
  // Contacts arrive through the stream: wait until they agree (or 30 s pass).
  const numbers = new Set(truth.contacts.keys());
  let contacts = new Map<string, number>();
  for (let waited = 0; waited < 30_000; waited += POLL_MS) {
    contacts = await contactCounts(stack, new Date(from.getTime() - 60_000).toISOString(), numbers);
    const total = [...contacts.values()].reduce((a, b) => a + b, 0);
    const after = await stats(stack, days.from, days.to);
    if (total === onContacts && after.anonymous - before.anonymous === truth.anonymous) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  // Voicemails: written with their calls (the webhook, the reconciliation); the contacts list
  // the calls once the stream has brought them. Wait until they agree (or 15 s pass). Checked
  // while the callbacks below are resolved, which changes no voicemail.
  const expectedAudio = [...sent.voicemails]
    .filter(([root]) => !sent.unrecoverable.has(root))
    .map(([, voicemail]) => voicemail.recordingSid);
  const voicemailCheck = (async () => {
    const shownVoicemails = new Map<string, ShownVoicemail>();
    let check = await checkVoicemails(stack, plan, sent, shownVoicemails);
    for (let waited = 0; waited < 15_000 && check.differences.length > 0; waited += POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      check = await checkVoicemails(stack, plan, sent, shownVoicemails, check.differingPhones);
    }
    // Without the local Twilio API (--target) the recordings exist nowhere: their audio is not checked.
    return { check, audio: stack.twilioApi ? await servedAudio(stack, expectedAudio) : undefined };
  })().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

  // A person marks three of the open callbacks done (POST /callbacks/{phone}/resolve).
  const callbacks = callbackTruth(plan, sent.sourceOf, new Set([...sent.unrecoverable, ...sent.lostBridges]));
  for (const [phone, openSince] of [...callbacks.open].sort().slice(0, 3)) {
    const response = await fetch(`${stack.target}/callbacks/${encodeURIComponent(phone)}/resolve`, {
      method: 'POST',
      headers: { 'x-api-key': stack.key, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'called back from the demo' }),
    });
    const body: unknown = await response.json();
    const resolvedAt =
      typeof body === 'object' && body !== null && 'resolved' in body && Array.isArray(body.resolved)
        ? body.resolved[0]?.resolvedAt
        : undefined;
    if (response.status !== 200 || typeof resolvedAt !== 'string')
      throw new Error(`resolving ${phone}: ${response.status} ${JSON.stringify(body)}`);
    // When the person marked it is the request's time, as the ledger saw it; the rest is the truth's.
    callbacks.resolved.operator += 1;
    callbacks.openNow -= 1;
    callbacks.open.delete(phone);
    callbacks.seconds.push(Math.round((Date.parse(resolvedAt) - Date.parse(openSince)) / 1000));
  }
  // Texts follow the contacts through the stream. Each callback the ledger saw open (its
  // `Callback opened` event) gets one outcome; a caller already called back before the ledger
  // learned of the miss never sees one open, and rightly gets no text.
  let messages: { to: string }[] = [];
  let openedEvents: BusEvent[] = [];
  if (texts !== undefined) {
    for (let waited = 0; waited < 30_000; waited += POLL_MS) {
      [messages, openedEvents] = await Promise.all([localMessages(stack), openings(stack)]);
      const outcomes = textBackOutcomes((await stats(stack, days.from, days.to)).textBack) - textBackOutcomes(before.textBack);
      if (openedEvents.length > 0 && outcomes >= openedEvents.length) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  const checked = await voicemailCheck;
  if ('error' in checked) throw checked.error;
  const { check: voicemails, audio } = checked.value;
  const opened = new Set(openedEvents.map((e) => e.detail.phone ?? ''));
  const after = await stats(stack, days.from, days.to);
  const delta = (pick: (s: StatsBody) => number) => pick(after) - pick(before);
  const textedTo = (numbers: readonly string[]) => messages.filter((m) => numbers.includes(m.to)).length;
  const perNumber = new Map<string, number>();
  for (const m of messages) perNumber.set(m.to, (perNumber.get(m.to) ?? 0) + 1);
  const mixedTexted = texts === undefined ? 0 : textedTo(texts.mixed);
  const openedTotal = openedEvents.length;

  const rows: [string, number, number][] = [
    ['missed calls', truth.missed, delta((s) => s.totals.total ?? 0)],
    ...(['no-answer', 'busy', 'failed'] as const).map((status): [string, number, number] => [
      `  ${status}`,
      truth.byStatus[status],
      delta((s) => s.totals[status] ?? 0),
    ]),
    ...REASONS.filter((reason) => truth.byReason[reason] > 0 || reason === 'abandoned').map((reason): [string, number, number] => [
      `  reason ${reason}`,
      truth.byReason[reason],
      delta((s) => s.byReason?.[reason] ?? 0),
    ]),
    // Which path decided a call depends on which of its callbacks arrived first; the calls none
    // of whose callbacks arrived can only have been the reconciliation's.
    [
      `  decided by the reconciliation (≥ ${sent.expectedBySource.reconcile})`,
      sent.expectedBySource.reconcile,
      Math.min(
        sent.expectedBySource.reconcile,
        delta((s) => s.bySource.reconcile ?? 0),
      ),
    ],
    ['  by source, all together', truth.missed, delta((s) => Object.values(s.bySource).reduce((a, b) => a + b, 0))],
    ['anonymous callers', truth.anonymous, delta((s) => s.anonymous)],
    ['contacts created', numbers.size, delta((s) => s.contactsCreated)],
    ['contacts listed', numbers.size, contacts.size],
    ['missed calls on contacts', onContacts, [...contacts.values()].reduce((a, b) => a + b, 0)],
    // The messages the ledger can know (their recording callback came), on their calls.
    ['voicemails on their missed calls', voicemails.left, voicemails.shown],
    ['  with their transcript', voicemails.transcripts, voicemails.transcriptsShown],
    ...(audio === undefined ? [] : [['  audio served (GET /recordings/{sid})', expectedAudio.length, audio] as [string, number, number]]),
    ['  shown on a call with no message', 0, voicemails.unexpected],
    ['callbacks opened', callbacks.opened, delta((s) => s.callbacks.opened)],
    ['  resolved by a callback', callbacks.resolved.callback, delta((s) => s.callbacks.resolved.callback ?? 0)],
    ['  resolved by a returned call', callbacks.resolved['returned-call'], delta((s) => s.callbacks.resolved['returned-call'] ?? 0)],
    ['  resolved by a person', callbacks.resolved.operator, delta((s) => s.callbacks.resolved.operator ?? 0)],
    ['  open now', callbacks.openNow, delta((s) => s.openNow)],
    // The median is compared where this run's resolutions are the range's only ones.
    ...(before.callbacks.resolved.total === 0
      ? [
          ['  median to callback (bucket, s)', medianBucket(callbacks.seconds), after.callbacks.medianSecondsToCallback ?? -1] as [
            string,
            number,
            number,
          ],
        ]
      : []),
    ...(texts === undefined
      ? []
      : (() => {
          const seenOpen = (numbers: readonly string[]) => numbers.filter((n) => opened.has(n));
          const inbound = seenOpen(texts.inboundOnly);
          const stop = seenOpen(optedOut);
          const landline = seenOpen(landlines);
          return [
            ['text-back: callbacks seen opening', openedTotal, delta((s) => textBackOutcomes(s.textBack))],
            ['  callers who called in, texted', inbound.length - stop.length - landline.length, textedTo(texts.inboundOnly)],
            ['  failed, replied STOP before (21610)', stop.length, delta((s) => s.textBack?.failed['opted-out'] ?? 0)],
            ['  failed, not a mobile (21614)', landline.length, delta((s) => s.textBack?.failed['not-mobile'] ?? 0)],
            ['  numbers we only called, texted', 0, textedTo(texts.outboundOnly)],
            // Missed both ways: at most one text each (which miss opened the callback is arrival order).
            [`  numbers missed both ways, texted (≤ ${texts.mixed.length})`, Math.min(mixedTexted, texts.mixed.length), mixedTexted],
            ['  most texts to one number', messages.length === 0 ? 0 : 1, Math.max(0, ...perNumber.values())],
            ['  texts sent (GET /stats) = texts Twilio took', messages.length, delta((s) => s.textBack?.sent ?? 0)],
          ] as [string, number, number][];
        })()),
  ];
  const wrongContacts = [...truth.contacts].filter(([phone, count]) => contacts.get(phone) !== count);
  const agree = rows.every(([, truth, ledger]) => truth === ledger) && wrongContacts.length === 0;

  log(
    `\nA day of Twilio traffic: ${plan.calls.length} calls, ${sent.callbacks} callbacks, ${sent.dropped} dropped (lost webhooks), ${sent.duplicated} delivered twice, seed ${seed}`,
  );
  const lostQueueMisses = [...sent.unrecoverable].filter((root) => !sent.lostVoicemails.has(root)).length;
  const lostVoicemailMisses = sent.unrecoverable.size - lostQueueMisses;
  if (lostQueueMisses > 0)
    log(
      `${lostQueueMisses} queue misses lost their Enqueue action: Twilio's REST API lists them as completed calls, so no one can tell (left out of the truth)`,
    );
  if (lostVoicemailMisses > 0)
    log(
      `${lostVoicemailMisses} calls straight to voicemail lost their recording callback: to the ledger TwiML alone handled them, and the REST API lists no recordings (left out of the truth)`,
    );
  if (sent.lostBridges.size > 0)
    log(
      `${sent.lostBridges.size} queue calls bridged to an agent lost their Enqueue action: no one can tell they were answered (left out of the truth)`,
    );
  log(`Reconciliation: ${JSON.stringify(reconciled)}`);
  // Messages left on misses whose recording callback was lost: the ledger cannot know them.
  const lostMessages = sent.lostVoicemails.size - lostVoicemailMisses;
  log(
    `voicemails: ${voicemails.left} left, ${voicemails.shown} shown, ${voicemails.transcriptsShown} transcripts` +
      (audio === undefined ? '' : `, ${audio} played`) +
      ` (truth: ${voicemails.transcripts} transcripts; lost with their callback, so no one can tell: ${lostMessages} messages, ${sent.lostTranscripts.size} transcripts)` +
      (voicemails.unchecked > 0 ? `; ${voicemails.unchecked} on calls no contact lists, not checked` : '') +
      '\n',
  );
  log(`${'what'.padEnd(46)}${'ground truth'.padStart(13)}${'ledger'.padStart(9)}`);
  for (const [what, truth, ledger] of rows)
    log(`${what.padEnd(46)}${String(truth).padStart(13)}${String(ledger).padStart(9)}  ${truth === ledger ? 'ok' : 'DIFFERENT'}`);
  for (const [phone, count] of wrongContacts.slice(0, 10)) log(`  contact ${phone}: truth ${count}, ledger ${contacts.get(phone) ?? 0}`);
  for (const line of voicemails.differences.slice(0, 10)) log(`  voicemail of ${line}`);
  if (!agree) {
    // Which callbacks differ: open by the truth and not on the worklist, or the other way round.
    const listed = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = (await getJson(stack, `/callbacks?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)) as {
        items: { phone: string }[];
        nextCursor?: string | null;
      };
      for (const item of page.items) listed.add(item.phone);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const ours = new Set(plan.calls.flatMap((c) => (c.customer === undefined ? [] : [c.customer])));
    const flowsOf = (phone: string) =>
      plan.calls
        .filter((c) => c.customer === phone || c.legs[0]?.from === phone || c.legs[0]?.to === phone)
        .map((c) => `${c.flow}${c.outcome === 'missed' ? `(${c.reason})` : ''}`)
        .join(', ');
    for (const phone of [...callbacks.open.keys()].filter((p) => !listed.has(p)).slice(0, 10))
      log(`  open by the truth, not on the worklist: ${phone}: ${flowsOf(phone)}`);
    for (const phone of [...listed].filter((p) => ours.has(p) && !callbacks.open.has(p)).slice(0, 10))
      log(`  on the worklist, not open by the truth: ${phone}: ${flowsOf(phone)}`);
  }
  log(
    `\n${agree ? 'The ledger agrees with the ground truth.' : 'The ledger DOES NOT agree with the ground truth.'} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
  );
  return agree;
}
