/**
 * A day of Twilio traffic: realistic call flows, each callback signed as Twilio signs it, sent
 * with the concurrency, duplication, reordering and drops asked for, the same calls registered
 * in the local Twilio-shaped API, and the ground truth of what the ledger must end up with.
 */
import type { MissedStatus } from '../lib/ledger/calls.js';
import { callerId } from '../lib/phone/phone.js';
import { mapLimit } from '../lib/platform/pool.js';
import { postLikeTwilio } from './sign.js';
import type { LocalCall } from './twilio-api.js';

/** A call flow that a day's calls are drawn from (`FLOWS`), or a staff callback planned after them. */
export type Flow =
  | FlowName
  /** Staff calling a missed caller back (planned after the day's calls, not drawn by weight). */
  | 'callback';

/** A call that reached a number (Twilio knows it; its webhook may or may not arrive). */
export interface Reach {
  phone: string;
  /** When it started (the ledger reckons the same: the callback's Timestamp less its duration). */
  at: string;
  by: 'callback' | 'returned-call';
  /** Long enough, and a person answered: it resolves a callback. */
  counts: boolean;
}

export interface Callback {
  route: '/twilio/call-status' | '/twilio/dial-status';
  params: Record<string, string>;
}

export interface SimulatedCall {
  flow: Flow;
  rootCallSid: string;
  /** The Twilio-side records of every leg, as the REST API lists them. */
  legs: LocalCall[];
  callbacks: Callback[];
  /** Ground truth: the missed status, or undefined for an answered call. */
  missed: MissedStatus | undefined;
  /** Ground truth: the E.164 contact it counts for, or `anonymous`. */
  customer: string | 'anonymous' | undefined;
}

export interface Plan {
  calls: SimulatedCall[];
  truth: Truth;
  /** Answered calls with customers' numbers: staff callbacks and returned calls a person answered. */
  reaches: Reach[];
}

export interface Truth {
  missed: number;
  byStatus: Record<MissedStatus, number>;
  anonymous: number;
  /** Missed calls per contact number. */
  contacts: Map<string, number>;
}

/** mulberry32: a small seeded PRNG, so that a seed replays the same day. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

/**
 * The draws of one planned day, all from one seeded sequence: a seed replays the same day only
 * while every planner takes the same draws in the same order.
 */
interface Draws {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  /** A Call SID (32 draws). */
  sid: () => string;
}

function draws(seed: number): Draws {
  const random = rng(seed);
  return {
    random,
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T,
    sid: () => `CA${hex(random, 32)}`,
  };
}

/** One call as its flow's planner gets it: who calls whom, when, and what was drawn for every call. */
interface CallContext {
  accountSid: string;
  /** The business's Twilio number. */
  business: string;
  /** Its agents' phones, which a <Dial> rings. */
  agents: readonly string[];
  /** The root leg's CallSid. */
  root: string;
  /** Who calls (an inbound call's From; an outbound call's To). */
  caller: string;
  start: Date;
  /** 25 s after the start: the Timestamp of its status callbacks. */
  end: Date;
  /** Drawn for every call whatever its flow; the flows that miss without a choice of their own use it. */
  missedStatus: 'no-answer' | 'busy' | 'failed';
}

/** What a flow's planner returns: the call's Twilio records and callbacks, and its ground truth. */
interface FlowOutcome {
  legs: LocalCall[];
  callbacks: Callback[];
  /** The missed status, or undefined for an answered call. */
  missed: MissedStatus | undefined;
  /** Answered calls with the customer that resolve a callback. */
  reaches?: Reach[];
}

/** A call flow: its share of a day's calls and how one of its calls goes. */
interface FlowEntry {
  name: string;
  /** Share of the day (relative to the other flows' weights). */
  weight: number;
  /** Who calls, when not a number from the run's pool of callers (that takes one draw). */
  caller?: (index: number) => string;
  /** Its legs and callbacks, taking any draws of its own after those taken for every call. */
  plan: (call: CallContext, draw: Draws) => FlowOutcome;
}

type LegSpec = Pick<LocalCall, 'sid' | 'status' | 'direction' | 'from' | 'to'> & { parent?: string };

/** A leg as Twilio's REST API lists it: 42 s long when completed, else 0. */
function leg(call: CallContext, spec: LegSpec): LocalCall {
  return {
    sid: spec.sid,
    parentCallSid: spec.parent ?? null,
    from: spec.from,
    to: spec.to,
    status: spec.status,
    direction: spec.direction,
    startTime: call.start,
    durationSeconds: spec.status === 'completed' ? 42 : 0,
  };
}

/** The root leg of a call between the caller and the business, in either direction. */
function rootLeg(call: CallContext, status: LocalCall['status'], direction: 'inbound' | 'outbound-api'): LocalCall {
  const [from, to] = direction === 'inbound' ? [call.caller, call.business] : [call.business, call.caller];
  return leg(call, { sid: call.root, status, direction, from, to });
}

/** The status callback of a leg's final status, sent as its `seq`th callback. */
function statusCallback(call: CallContext, of: LocalCall, seq: number): Callback {
  return {
    route: '/twilio/call-status',
    params: {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallbackSource: 'call-progress-events',
      CallSid: of.sid,
      CallStatus: of.status,
      Direction: of.direction,
      From: of.from,
      To: of.to,
      Called: of.to,
      Caller: of.from,
      CallDuration: of.status === 'completed' ? '42' : '0',
      Timestamp: rfc2822(call.end),
      SequenceNumber: String(seq),
      ...(of.parentCallSid ? { ParentCallSid: of.parentCallSid } : {}),
    },
  };
}

/** The <Dial> action of `parent` once its dialled legs ended with `status` (`dialled`: the leg it names). */
function dialAction(call: CallContext, parent: LocalCall, status: LocalCall['status'], dialled: LocalCall | undefined): Callback {
  return {
    route: '/twilio/dial-status',
    params: {
      AccountSid: call.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: parent.sid,
      CallStatus: 'in-progress',
      Direction: parent.direction,
      From: parent.from,
      To: parent.to,
      DialCallStatus: status,
      DialCallSid: dialled?.sid ?? parent.sid,
      DialCallDuration: status === 'completed' ? '42' : '0',
      // When the dialled leg ended (answered: 42 s after it started).
      Timestamp: rfc2822(status === 'completed' ? new Date(call.start.getTime() + 42_000) : call.end),
    },
  };
}

/** A call of one leg that ends with `status`, and its one status callback. */
function oneLeg(call: CallContext, status: LocalCall['status'], direction: 'inbound' | 'outbound-api') {
  const only = rootLeg(call, status, direction);
  return { legs: [only], callbacks: [statusCallback(call, only, 3)] };
}

/** The caller reached someone: a returned call that resolves their callback (for a callable number). */
const returnedCall = (call: CallContext): Reach[] =>
  callerId(call.caller).kind === 'number' ? [{ phone: call.caller, at: call.start.toISOString(), by: 'returned-call', counts: true }] : [];

const answered = (call: CallContext): FlowOutcome => ({ ...oneLeg(call, 'completed', 'inbound'), missed: undefined });

/** An inbound call nobody answered, with the status drawn for every call. */
const missedInbound = (call: CallContext): FlowOutcome => ({ ...oneLeg(call, call.missedStatus, 'inbound'), missed: call.missedStatus });

/** The business called the customer, who did not answer. */
const missedOutbound = (call: CallContext, draw: Draws): FlowOutcome => {
  const missed = draw.pick(['no-answer', 'busy'] as const);
  return { ...oneLeg(call, missed, 'outbound-api'), missed };
};

/** An inbound call that <Dial>s one agent's phone (drawn) or all of them; answered, or all ring out alike. */
const dial =
  (dialling: 'one' | 'all', outcome: 'answered' | 'missed') =>
  (call: CallContext, draw: Draws): FlowOutcome => {
    const dialled = dialling === 'all' ? call.agents : [draw.pick(call.agents)];
    // Everyone rings out the same way, so the ledger's status does not depend on arrival order.
    const childStatus = outcome === 'answered' ? 'completed' : draw.pick(['no-answer', 'no-answer', 'busy'] as const);
    const children = dialled.map((agent) =>
      leg(call, { sid: draw.sid(), status: childStatus, direction: 'outbound-dial', from: call.business, to: agent, parent: call.root }),
    );
    const parent = rootLeg(call, 'completed', 'inbound');
    const missed = childStatus === 'completed' ? undefined : childStatus;
    return {
      legs: [parent, ...children],
      callbacks: [
        ...children.map((child) => statusCallback(call, child, 2)),
        dialAction(call, parent, childStatus, children[0]),
        statusCallback(call, parent, 4),
      ],
      missed,
      reaches: missed === undefined ? returnedCall(call) : [],
    };
  };

/**
 * The flows of a small business's day, each with its share. A call draws its flow by weight, in
 * this order, then its start, its root CallSid, its caller and a missed status, then the draws of
 * its flow's planner.
 */
const FLOWS = [
  { name: 'answered', weight: 30, plan: answered },
  { name: 'missed-direct', weight: 12, plan: missedInbound },
  { name: 'dial-one-missed', weight: 14, plan: dial('one', 'missed') },
  { name: 'dial-three-missed', weight: 8, plan: dial('all', 'missed') },
  { name: 'dial-answered', weight: 16, plan: dial('one', 'answered') },
  { name: 'anonymous-missed', weight: 4, caller: () => 'anonymous', plan: missedInbound },
  { name: 'sip-missed', weight: 2, caller: (i) => `sip:caller${i}@example.sip.twilio.com`, plan: missedInbound },
  { name: 'outbound-missed', weight: 14, plan: missedOutbound },
] as const satisfies readonly FlowEntry[];

type FlowName = (typeof FLOWS)[number]['name'];

/** Share of each flow in a small business's day. */
export const FLOW_WEIGHTS: Readonly<Record<Flow, number>> = {
  ...(Object.fromEntries(FLOWS.map((f) => [f.name, f.weight])) as Record<FlowName, number>),
  callback: 0,
};

export interface PlanOptions {
  calls: number;
  seed: number;
  accountSid: string;
  /** The business's Twilio number and its agents' phones. */
  businessNumber?: string;
  /** Calls start between these two instants. */
  from: Date;
  to: Date;
}

/** The callbacks and Twilio records of `options.calls` calls, with their ground truth. */
export function planDay(options: PlanOptions): Plan {
  const draw = draws(options.seed);
  const business = options.businessNumber ?? '+14155559876';
  const agents = ['+14155550181', '+14155550182', '+14155550183'];
  // Callers of this run: a block of numbers unique to the seed, some of them calling again.
  const area = draw.pick(['212', '312', '415', '512', '617', '646', '718', '917']);
  const block = 2000 + Math.floor(draw.random() * 7000);
  const pool = Array.from({ length: Math.max(5, Math.floor(options.calls * 0.6)) }, (_, i) =>
    `+1${area}${block}${String(i).padStart(3, '0')}`.slice(0, 12),
  );
  const span = options.to.getTime() - options.from.getTime();

  const calls: SimulatedCall[] = [];
  const reaches: Reach[] = [];
  for (let i = 0; i < options.calls; i++) {
    const flow = chooseFlow(draw);
    const start = new Date(options.from.getTime() + Math.floor(draw.random() * span));
    const root = draw.sid();
    const caller = flow.caller ? flow.caller(i) : draw.pick(pool);
    const missedStatus = draw.pick(['no-answer', 'no-answer', 'busy', 'failed'] as const);
    const end = new Date(start.getTime() + 25_000);
    const call: CallContext = { accountSid: options.accountSid, business, agents, root, caller, start, end, missedStatus };
    const { legs, callbacks, missed, reaches: returned = [] } = flow.plan(call, draw);
    reaches.push(...returned);
    const customer = missed === undefined ? undefined : callerId(caller).kind === 'anonymous' ? 'anonymous' : caller;
    calls.push({ flow: flow.name, rootCallSid: root, legs, callbacks, missed, customer });
  }

  for (const missedCall of [...calls]) {
    const planned = staffCallback(missedCall, draw, business, options);
    if (planned === undefined) continue;
    calls.push(planned.call);
    reaches.push(planned.reach);
  }
  return { calls, truth: truthOf(calls), reaches };
}

const TOTAL_WEIGHT = FLOWS.reduce((sum, f) => sum + f.weight, 0);

/** A flow drawn by weight (one draw). */
function chooseFlow(draw: Draws): FlowEntry & { name: FlowName } {
  let r = draw.random() * TOTAL_WEIGHT;
  for (const flow of FLOWS) {
    r -= flow.weight;
    if (r < 0) return flow;
  }
  return FLOWS[0];
}

/**
 * Staff call half of the missed callers back, 2 to 40 minutes later: 15% hang up within 5 s,
 * 15% reach voicemail (answering machine detection says so), the rest talk 1 to 5 minutes.
 * Three draws for each missed call of a number; for a callback planned, one more for a person's
 * talk time, then its CallSid's.
 */
function staffCallback(
  missedCall: SimulatedCall,
  draw: Draws,
  business: string,
  options: Pick<PlanOptions, 'accountSid' | 'to'>,
): { call: SimulatedCall; reach: Reach } | undefined {
  const phone = missedCall.customer;
  const missedLeg = missedCall.legs[0];
  if (missedCall.missed === undefined || phone === undefined || phone === 'anonymous' || missedLeg === undefined) return undefined;
  const roll = draw.random();
  const startMs = missedLeg.startTime.getTime() + (2 + Math.floor(draw.random() * 38)) * 60_000;
  const outcome = draw.random();
  if (roll >= 0.5 || startMs > options.to.getTime()) return undefined;
  const kind = outcome < 0.15 ? 'short' : outcome < 0.3 ? 'machine' : 'person';
  const duration = kind === 'short' ? 5 : kind === 'machine' ? 30 : 60 + Math.floor(draw.random() * 240);
  const start = new Date(startMs);
  const callSid = draw.sid();
  const call: SimulatedCall = {
    flow: 'callback',
    rootCallSid: callSid,
    legs: [
      {
        sid: callSid,
        parentCallSid: null,
        from: business,
        to: phone,
        status: 'completed',
        direction: 'outbound-api',
        startTime: start,
        durationSeconds: duration,
        answeredBy: kind === 'machine' ? 'machine_end_beep' : kind === 'person' ? 'human' : null,
      },
    ],
    callbacks: [
      {
        route: '/twilio/call-status',
        params: {
          AccountSid: options.accountSid,
          ApiVersion: '2010-04-01',
          CallSid: callSid,
          CallStatus: 'completed',
          Direction: 'outbound-api',
          From: business,
          To: phone,
          CallDuration: String(duration),
          Timestamp: rfc2822(new Date(startMs + duration * 1000)),
          ...(kind === 'short' ? {} : { AnsweredBy: kind === 'machine' ? 'machine_end_beep' : 'human' }),
        },
      },
    ],
    missed: undefined,
    customer: undefined,
  };
  return { call, reach: { phone, at: start.toISOString(), by: 'callback', counts: kind === 'person' } };
}

/** What the ledger must count: the missed calls by status, anonymous, and per contact. */
function truthOf(calls: readonly SimulatedCall[]): Truth {
  const truth: Truth = { missed: 0, byStatus: { 'no-answer': 0, busy: 0, failed: 0, canceled: 0 }, anonymous: 0, contacts: new Map() };
  for (const call of calls) {
    if (call.missed === undefined) continue;
    truth.missed += 1;
    truth.byStatus[call.missed] += 1;
    if (call.customer === 'anonymous') truth.anonymous += 1;
    else if (call.customer !== undefined) truth.contacts.set(call.customer, (truth.contacts.get(call.customer) ?? 0) + 1);
  }
  return truth;
}

/** What the callback worklist must end up with, from the plan and which source recorded each miss. */
export interface CallbackTruth {
  opened: number;
  resolved: Record<'callback' | 'returned-call' | 'operator', number>;
  openNow: number;
  /** The open callbacks: number → when its first unresolved miss happened. */
  open: Map<string, string>;
  /** Each resolution's seconds to callback. */
  seconds: number[];
}

/**
 * The worklist by its definition, computed here on its own: each miss of a callable number
 * belongs to the first counting call with that number that started after it; misses that none
 * follows stay open. A miss happened when the ledger says: the callback's Timestamp (the call's
 * end) when a webhook recorded it, the call's start when the reconciliation did.
 */
export function callbackTruth(plan: Plan, sourceOf: ReadonlyMap<string, 'status-callback' | 'dial-action' | 'reconcile'>): CallbackTruth {
  const truth: CallbackTruth = {
    opened: 0,
    resolved: { callback: 0, 'returned-call': 0, operator: 0 },
    openNow: 0,
    open: new Map(),
    seconds: [],
  };
  const byPhone = new Map<string, string[]>();
  for (const call of plan.calls) {
    const leg = call.legs[0];
    if (call.missed === undefined || call.customer === undefined || call.customer === 'anonymous' || leg === undefined) continue;
    const at = sourceOf.get(call.rootCallSid) === 'reconcile' ? leg.startTime : new Date(leg.startTime.getTime() + 25_000);
    byPhone.set(call.customer, [...(byPhone.get(call.customer) ?? []), at.toISOString()]);
  }
  for (const [phone, misses] of byPhone) {
    const reaches = plan.reaches.filter((r) => r.phone === phone && r.counts).sort((a, b) => a.at.localeCompare(b.at));
    const groups = new Map<Reach | undefined, string[]>();
    for (const at of misses) {
      const reach = reaches.find((r) => r.at > at);
      groups.set(reach, [...(groups.get(reach) ?? []), at]);
    }
    for (const [reach, group] of groups) {
      truth.opened += 1;
      const first = [...group].sort()[0] ?? '';
      if (reach === undefined) {
        truth.openNow += 1;
        truth.open.set(phone, first);
      } else {
        truth.resolved[reach.by] += 1;
        truth.seconds.push(Math.round((Date.parse(reach.at) - Date.parse(first)) / 1000));
      }
    }
  }
  return truth;
}

export interface SendOptions {
  target: string;
  authToken: string;
  /** Share of callbacks never delivered (lost webhooks), 0..1. */
  drop: number;
  /** Share of delivered callbacks delivered twice, 0..1. */
  duplicates: number;
  concurrency: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/** The order a call's callbacks arrive in: shuffled (separate requests, in no guaranteed order). */
const deliveryOrder = (callbacks: readonly Callback[], random: () => number): Callback[] => [...callbacks].sort(() => random() - 0.5);

/** How many times a callback arrives: lost (0) with probability `drop`, else twice with probability `duplicates`. */
function deliveries(random: () => number, options: Pick<SendOptions, 'drop' | 'duplicates'>): 0 | 1 | 2 {
  if (random() < options.drop) return 0;
  return random() < options.duplicates ? 2 : 1;
}

export interface SendSummary {
  /** Ground truth per source: which delivery records each missed call first. */
  expectedBySource: Record<'status-callback' | 'dial-action' | 'reconcile', number>;
  /** Which delivery records each missed call first (by root CallSid). */
  sourceOf: Map<string, 'status-callback' | 'dial-action' | 'reconcile'>;
  callbacks: number;
  sent: number;
  dropped: number;
  duplicated: number;
  failed: number;
  statuses: Record<string, number>;
}

/**
 * Sends each call's callbacks in a shuffled order (callbacks are separate requests: Twilio does
 * not guarantee their order), calls in parallel up to `concurrency`.
 */
export async function sendDay(plan: Plan, options: SendOptions): Promise<SendSummary> {
  const random = rng(options.seed ^ 0x5eed);
  const summary: SendSummary = {
    expectedBySource: { 'status-callback': 0, 'dial-action': 0, reconcile: 0 },
    sourceOf: new Map(),
    callbacks: 0,
    sent: 0,
    dropped: 0,
    duplicated: 0,
    failed: 0,
    statuses: {},
  };
  const target = options.target.replace(/\/+$/, '');
  const post = async (callback: Callback) => {
    const url = `${target}${callback.route}`;
    const response = await postLikeTwilio(url, callback.params, options.authToken);
    await response.arrayBuffer();
    summary.sent += 1;
    summary.statuses[response.status] = (summary.statuses[response.status] ?? 0) + 1;
    if (response.status >= 400) summary.failed += 1;
  };
  // Decide drops, duplicates and order up front, from the seed, so a seed replays exactly.
  const records = (callback: Callback) =>
    callback.route === '/twilio/dial-status'
      ? ['no-answer', 'busy', 'failed'].includes(callback.params.DialCallStatus ?? '')
      : ['no-answer', 'busy', 'failed'].includes(callback.params.CallStatus ?? '');
  const work = plan.calls.map((call) => {
    const delivered = deliveryOrder(call.callbacks, random).flatMap((callback) => {
      summary.callbacks += 1;
      const times = deliveries(random, options);
      if (times === 0) summary.dropped += 1;
      if (times === 2) summary.duplicated += 1;
      return Array.from({ length: times }, () => callback);
    });
    if (call.missed !== undefined) {
      // Sent one after another, so the first delivered callback that records decides the source.
      const first = delivered.find(records);
      const source = first === undefined ? 'reconcile' : first.route === '/twilio/dial-status' ? 'dial-action' : 'status-callback';
      summary.expectedBySource[source] += 1;
      summary.sourceOf.set(call.rootCallSid, source);
    }
    return delivered;
  });
  let done = 0;
  await mapLimit(work, options.concurrency, async (callbacks) => {
    for (const callback of callbacks) await post(callback);
    done += 1;
    options.onProgress?.(done, work.length);
  });
  return summary;
}

/**
 * Who may get a text-back (TEXT_BACK=on, cooldown longer than the day): a caller whose every
 * missed call was inbound gets exactly one outcome (sent, or failed for a number marked opted out
 * or not mobile); a number we only called (outbound misses) never gets a text. A number missed
 * both ways gets at most one: whether its callback opened on an inbound or an outbound miss
 * depends on the order the ledger learned of them, so the truth is a bound there.
 */
export function textBackTruth(plan: Plan): { inboundOnly: string[]; outboundOnly: string[]; mixed: string[] } {
  const directions = new Map<string, Set<string>>();
  for (const call of plan.calls) {
    const direction = call.legs[0]?.direction;
    if (call.missed === undefined || call.customer === undefined || call.customer === 'anonymous' || direction === undefined) continue;
    directions.set(call.customer, (directions.get(call.customer) ?? new Set()).add(direction));
  }
  const of = (test: (d: Set<string>) => boolean) =>
    [...directions]
      .filter(([, d]) => test(d))
      .map(([phone]) => phone)
      .sort();
  return {
    inboundOnly: of((d) => d.size === 1 && d.has('inbound')),
    outboundOnly: of((d) => !d.has('inbound')),
    mixed: of((d) => d.size > 1 && d.has('inbound')),
  };
}
