/**
 * The whole-call rule (lib/ledger/outcome.ts), as a pure function of one root call's facts: every
 * branch of `decideOutcome` and every reason, with the settings read from the environment as the
 * functions read them. Expected outcomes are written by hand from issue 27's rule.
 */
import { describe, expect, it } from 'vitest';
import {
  type CallFacts,
  decideOutcome,
  isAnswered,
  isMachine,
  isTerminal,
  MISSED_REASONS,
  type MissedReason,
  type OutcomeSettings,
  opensCallback,
  type QueueResult,
  type RecordingFact,
  statusOfReason,
  type TerminalStatus,
  voicemailOf,
} from '../../lib/ledger/outcome.js';
import { readLedgerSettings } from '../../lib/ledger/settings.js';
import type { DialCallStatus } from '../../lib/twilio/call-status.js';

const DEFAULTS: OutcomeSettings = readLedgerSettings({});
const INCLUDE_CANCELED: OutcomeSettings = readLedgerSettings({ MISSED_INCLUDE_CANCELED: 'true' });
const IVR_MISSED: OutcomeSettings = readLedgerSettings({ IVR_HANGUPS_MISSED: 'true' });

interface Given {
  legs?: [string, TerminalStatus, 'machine'?][];
  dials?: [string, DialCallStatus][];
  queues?: [QueueResult, number?][];
  root?: [TerminalStatus, number?];
  inbound?: boolean;
  ended?: boolean;
}

/** The facts of one call, written the way a reader says them. */
function facts(given: Given): CallFacts {
  return {
    legs: new Map((given.legs ?? []).map(([sid, status, machine]) => [sid, { status, machine: machine === 'machine' }])),
    dials: new Map(given.dials ?? []),
    queues: new Map((given.queues ?? []).map(([result, seconds], i) => [`QU${i}`, { result, seconds }])),
    root: given.root === undefined ? undefined : { status: given.root[0], durationSeconds: given.root[1] },
    inbound: given.inbound ?? true,
    ended: given.ended ?? true,
  };
}

const missed = (reason: MissedReason, status: string) => ({ outcome: 'missed', reason, status });

describe('the settings', () => {
  it('defaults to canceled not counted as such, a 10 s short-abandon cut-off, IVR hang-ups not missed', () => {
    expect(DEFAULTS).toMatchObject({ includeCanceled: false, shortAbandonSeconds: 10, ivrHangupsMissed: false });
    expect(INCLUDE_CANCELED.includeCanceled).toBe(true);
    expect(IVR_MISSED.ivrHangupsMissed).toBe(true);
    expect(readLedgerSettings({ SHORT_ABANDON_SECONDS: '15' }).shortAbandonSeconds).toBe(15);
  });

  it('refuses a setting that is not one, naming it', () => {
    expect(() => readLedgerSettings({ IVR_HANGUPS_MISSED: 'maybe' })).toThrow(/IVR_HANGUPS_MISSED/);
    expect(() => readLedgerSettings({ SHORT_ABANDON_SECONDS: 'ten' })).toThrow(/SHORT_ABANDON_SECONDS/);
    expect(() => readLedgerSettings({ OUTCOME_SETTLE_SECONDS: '0' })).toThrow(/OUTCOME_SETTLE_SECONDS/);
  });
});

describe('answered: a person took the call', () => {
  it.each<[string, Given]>([
    ['a <Dial> leg that ended completed', { legs: [['CA1', 'completed']] }],
    [
      'the second phone of a hunt',
      {
        legs: [
          ['CA1', 'no-answer'],
          ['CA2', 'completed'],
        ],
        root: ['completed', 81],
      },
    ],
    [
      'one of a simultaneous ring, the others canceled',
      {
        legs: [
          ['CA1', 'canceled'],
          ['CA2', 'completed'],
          ['CA3', 'canceled'],
        ],
      },
    ],
    ['a Dial action completed', { dials: [['CA1', 'completed']] }],
    ['a Dial action answered', { dials: [['CA1', 'answered']] }],
    ['a Dial action completed that names no leg', { dials: [['-', 'completed']] }],
    ['a Dial action completed for a leg a person answered', { legs: [['CA1', 'completed']], dials: [['CA1', 'completed']] }],
    ['a caller bridged from a queue', { queues: [['bridged', 40]] }],
    ['a bridge in process', { queues: [['bridging-in-process', 12]] }],
    ['a caller redirected after a bridge', { queues: [['redirected-from-bridged', 30]] }],
    [
      'a bridged caller, even if a queue before hung up',
      {
        queues: [
          ['hangup', 60],
          ['bridged', 20],
        ],
      },
    ],
  ])('%s', (_, given) => {
    expect(isAnswered(facts(given))).toBe(true);
    expect(decideOutcome(facts(given), DEFAULTS)).toEqual({ outcome: 'answered' });
  });

  it('is decided as soon as the evidence shows it, before the call has ended', () => {
    expect(decideOutcome(facts({ legs: [['CA1', 'completed']], ended: false }), DEFAULTS)).toEqual({ outcome: 'answered' });
  });

  it('wins over an unanswered root status (answered on another leg)', () => {
    expect(decideOutcome(facts({ legs: [['CA1', 'completed']], root: ['no-answer', 0] }), DEFAULTS)).toEqual({ outcome: 'answered' });
  });
});

describe('not answered by a machine', () => {
  it.each(['machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax'])('AnsweredBy %s is a machine', (v) => {
    expect(isMachine(v)).toBe(true);
  });

  it.each([undefined, 'human', 'unknown'])('AnsweredBy %s is not', (v) => {
    expect(isMachine(v)).toBe(false);
  });

  it('a completed leg a machine answered is no answer', () => {
    const call = facts({ legs: [['CA1', 'completed', 'machine']], root: ['completed', 49] });
    expect(isAnswered(call)).toBe(false);
    expect(decideOutcome(call, DEFAULTS)).toEqual(missed('no-answer', 'no-answer'));
  });

  it('a machine leg with a completed Dial action is not answered, in either order of the facts', () => {
    const call = facts({ legs: [['CA1', 'completed', 'machine']], dials: [['CA1', 'completed']], root: ['completed', 49] });
    expect(isAnswered(call)).toBe(false);
    expect(decideOutcome(call, DEFAULTS)).toEqual(missed('no-answer', 'no-answer'));
    const dialFirst = facts({ dials: [['CA1', 'completed']], legs: [['CA1', 'completed', 'machine']], root: ['completed', 49] });
    expect(decideOutcome(dialFirst, DEFAULTS)).toEqual(missed('no-answer', 'no-answer'));
  });

  it('a person on another leg still answers a call whose first leg was a voicemail', () => {
    const call = facts({
      legs: [
        ['CA1', 'completed', 'machine'],
        ['CA2', 'completed'],
      ],
      root: ['completed', 90],
    });
    expect(decideOutcome(call, DEFAULTS)).toEqual({ outcome: 'answered' });
  });
});

describe('undecided until the call has ended', () => {
  it.each<[string, Given]>([
    ['the first leg of a hunt said no-answer', { legs: [['CA1', 'no-answer']] }],
    ['a Dial action said busy, the flow goes on', { dials: [['CA1', 'busy']] }],
    ['a caller left a queue to go on elsewhere', { queues: [['leave', 30]] }],
    ['nothing known yet', {}],
  ])('%s', (_, given) => {
    expect(decideOutcome(facts({ ...given, ended: false }), DEFAULTS)).toEqual({ outcome: 'undecided' });
  });
});

describe('missed: what Twilio said on the root itself', () => {
  it.each([
    ['no-answer', 'no-answer'],
    ['busy', 'busy'],
    ['failed', 'failed'],
  ] as const)('root %s is a miss of that reason (answerOnBridge, a direct call)', (status, reason) => {
    expect(decideOutcome(facts({ root: [status, 0] }), DEFAULTS)).toEqual(missed(reason, status));
    // It says more than the legs do.
    expect(decideOutcome(facts({ legs: [['CA1', 'no-answer']], root: [status, 30] }), DEFAULTS)).toEqual(missed(reason, status));
  });

  it('root canceled (the caller hung up before it was answered) is abandoned, or canceled with MISSED_INCLUDE_CANCELED', () => {
    expect(decideOutcome(facts({ root: ['canceled', 0] }), DEFAULTS)).toEqual(missed('abandoned', 'no-answer'));
    expect(decideOutcome(facts({ root: ['canceled', 0] }), INCLUDE_CANCELED)).toEqual(missed('canceled', 'canceled'));
  });
});

describe('missed: a <Dial> nobody answered', () => {
  it.each<[string, Given, MissedReason, string]>([
    [
      'every phone of a hunt rang out',
      {
        legs: [
          ['CA1', 'no-answer'],
          ['CA2', 'no-answer'],
        ],
        root: ['completed', 37],
      },
      'no-answer',
      'no-answer',
    ],
    ['the Dial action said no-answer', { dials: [['CA1', 'no-answer']], root: ['completed', 31] }, 'no-answer', 'no-answer'],
    [
      'every phone was busy',
      {
        legs: [
          ['CA1', 'busy'],
          ['CA2', 'busy'],
        ],
        root: ['completed', 12],
      },
      'busy',
      'busy',
    ],
    ['the Dial action said busy', { dials: [['CA1', 'busy']], root: ['completed', 12] }, 'busy', 'busy'],
    ['every leg failed', { legs: [['CA1', 'failed']], dials: [['CA1', 'failed']], root: ['completed', 12] }, 'failed', 'failed'],
    [
      'one busy, one no-answer',
      {
        legs: [
          ['CA1', 'busy'],
          ['CA2', 'no-answer'],
        ],
        root: ['completed', 40],
      },
      'no-answer',
      'no-answer',
    ],
    ['the caller hung up while it rang', { legs: [['CA1', 'canceled']], root: ['completed', 24] }, 'abandoned', 'no-answer'],
    [
      'the caller hung up while the second phone of a hunt rang',
      {
        legs: [
          ['CA1', 'no-answer'],
          ['CA2', 'canceled'],
        ],
        root: ['completed', 24],
      },
      'abandoned',
      'no-answer',
    ],
    ['a Dial action canceled', { dials: [['CA1', 'canceled']], root: ['completed', 24] }, 'abandoned', 'no-answer'],
    ['no root end known (settled), legs rang out', { legs: [['CA1', 'no-answer']] }, 'no-answer', 'no-answer'],
    ['no root end known (settled), a leg canceled', { legs: [['CA1', 'canceled']] }, 'abandoned', 'no-answer'],
  ])('%s', (_, given, reason, status) => {
    expect(decideOutcome(facts(given), DEFAULTS)).toEqual(missed(reason, status));
  });

  it('a hang-up while it rang is canceled (its old meaning) with MISSED_INCLUDE_CANCELED=true', () => {
    const call = facts({ legs: [['CA1', 'canceled']], root: ['completed', 24] });
    expect(decideOutcome(call, INCLUDE_CANCELED)).toEqual(missed('canceled', 'canceled'));
    // Even a short one: canceled keeps its old meaning whole.
    const short = facts({ legs: [['CA1', 'canceled']], root: ['completed', 4] });
    expect(decideOutcome(short, INCLUDE_CANCELED)).toEqual(missed('canceled', 'canceled'));
  });
});

describe('short-abandoned: the caller hung up within SHORT_ABANDON_SECONDS (default 10)', () => {
  const rang = (legStatus: TerminalStatus, duration: number | undefined) =>
    facts({ legs: [['CA1', legStatus]], root: ['completed', duration] });

  it.each([
    [0, 'short-abandoned'],
    [9, 'short-abandoned'],
    [10, 'abandoned'],
    [11, 'abandoned'],
  ] as const)('a hang-up while it rang after %i s is %s', (seconds, reason) => {
    expect(decideOutcome(rang('canceled', seconds), DEFAULTS)).toEqual(missed(reason, 'no-answer'));
  });

  it.each([
    [9, 'short-abandoned'],
    [10, 'no-answer'],
  ] as const)('a leg reported no-answer after %i s is %s (accounts differ on how they report a hang-up)', (seconds, reason) => {
    expect(decideOutcome(rang('no-answer', seconds), DEFAULTS)).toEqual(missed(reason, 'no-answer'));
  });

  it('needs the root duration: without it a hang-up is not known to be short', () => {
    expect(decideOutcome(rang('canceled', undefined), DEFAULTS)).toEqual(missed('abandoned', 'no-answer'));
  });

  it('is not said of a busy or failed call, which the caller did not end', () => {
    expect(decideOutcome(rang('busy', 2), DEFAULTS)).toEqual(missed('busy', 'busy'));
    expect(decideOutcome(rang('failed', 2), DEFAULTS)).toEqual(missed('failed', 'failed'));
  });

  it('follows SHORT_ABANDON_SECONDS, and 0 turns it off', () => {
    const fifteen = readLedgerSettings({ SHORT_ABANDON_SECONDS: '15' });
    expect(decideOutcome(rang('canceled', 14), fifteen)).toEqual(missed('short-abandoned', 'no-answer'));
    expect(decideOutcome(rang('canceled', 15), fifteen)).toEqual(missed('abandoned', 'no-answer'));
    expect(decideOutcome(rang('canceled', 0), readLedgerSettings({ SHORT_ABANDON_SECONDS: '0' }))).toEqual(
      missed('abandoned', 'no-answer'),
    );
  });
});

describe('missed in a queue', () => {
  it.each<[string, [QueueResult, number?][], MissedReason, string]>([
    ['hung up after waiting', [['hangup', 95]], 'queue-abandoned', 'no-answer'],
    ['hung up after exactly the cut-off', [['hangup', 10]], 'queue-abandoned', 'no-answer'],
    ['hung up within the cut-off', [['hangup', 9]], 'short-abandoned', 'no-answer'],
    ['hung up, no QueueTime given', [['hangup']], 'queue-abandoned', 'no-answer'],
    ['the queue was full', [['queue-full', 0]], 'queue-full', 'no-answer'],
    ['<Leave> took the caller out', [['leave', 30]], 'queue-left', 'no-answer'],
    ['an error', [['error', 0]], 'failed', 'failed'],
    ['a system error', [['system-error', 0]], 'failed', 'failed'],
    [
      'a hang-up is the most telling of several queues',
      [
        ['queue-full', 0],
        ['leave', 20],
        ['hangup', 30],
      ],
      'queue-abandoned',
      'no-answer',
    ],
    [
      'then a full queue',
      [
        ['leave', 20],
        ['queue-full', 0],
      ],
      'queue-full',
      'no-answer',
    ],
    [
      'then a <Leave>',
      [
        ['error', 0],
        ['leave', 20],
      ],
      'queue-left',
      'no-answer',
    ],
  ])('%s', (_, queues, reason, status) => {
    expect(decideOutcome(facts({ queues, root: ['completed', 120] }), DEFAULTS)).toEqual(missed(reason, status));
  });

  it('says why in the queue rather than what the <Dial> before it said', () => {
    const call = facts({ legs: [['CA1', 'no-answer']], queues: [['hangup', 60]], root: ['completed', 90] });
    expect(decideOutcome(call, DEFAULTS)).toEqual(missed('queue-abandoned', 'no-answer'));
  });

  it('a redirected caller tells nothing by itself: TwiML handled the rest', () => {
    expect(decideOutcome(facts({ queues: [['redirected', 10]], root: ['completed', 60] }), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    const thenDial = facts({ queues: [['redirected', 10]], legs: [['CA1', 'no-answer']], root: ['completed', 60] });
    expect(decideOutcome(thenDial, DEFAULTS)).toEqual(missed('no-answer', 'no-answer'));
  });
});

describe('calls TwiML alone handled', () => {
  it('an IVR, an AI agent, a message: not missed by default', () => {
    expect(decideOutcome(facts({ root: ['completed', 40] }), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    // Ended with nothing at all known (settled).
    expect(decideOutcome(facts({}), DEFAULTS)).toEqual({ outcome: 'not-missed' });
  });

  it('missed (reason ivr) with IVR_HANGUPS_MISSED=true, for inbound roots only', () => {
    expect(decideOutcome(facts({ root: ['completed', 40], inbound: true }), IVR_MISSED)).toEqual(missed('ivr', 'no-answer'));
    expect(decideOutcome(facts({ root: ['completed', 40], inbound: false }), IVR_MISSED)).toEqual({ outcome: 'not-missed' });
    expect(decideOutcome({ ...facts({ root: ['completed', 40] }), inbound: undefined }, IVR_MISSED)).toEqual({ outcome: 'not-missed' });
  });

  it('IVR_HANGUPS_MISSED changes nothing of a call that reached a <Dial> or was answered', () => {
    expect(decideOutcome(facts({ legs: [['CA1', 'no-answer']], root: ['completed', 30] }), IVR_MISSED)).toEqual(
      missed('no-answer', 'no-answer'),
    );
    expect(decideOutcome(facts({ legs: [['CA1', 'completed']], root: ['completed', 30] }), IVR_MISSED)).toEqual({ outcome: 'answered' });
  });
});

describe('voicemail: a message left', () => {
  const message = (seconds: number, extra: Partial<RecordingFact> = {}): CallFacts => ({
    ...facts({ root: ['completed', 40] }),
    recordings: new Map([['RE1', { status: 'completed', seconds, voice: true, ...extra }]]),
  });

  it('makes a call TwiML alone handled a miss (reason voicemail), from VOICEMAIL_MIN_SECONDS (default 3)', () => {
    expect(readLedgerSettings({}).voicemailMinSeconds).toBe(3);
    expect(decideOutcome(message(3), DEFAULTS)).toEqual(missed('voicemail', 'no-answer'));
    expect(decideOutcome(message(2), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    expect(decideOutcome(message(2), readLedgerSettings({ VOICEMAIL_MIN_SECONDS: '1' }))).toEqual(missed('voicemail', 'no-answer'));
    expect(() => readLedgerSettings({ VOICEMAIL_MIN_SECONDS: 'soon' })).toThrow(/VOICEMAIL_MIN_SECONDS/);
  });

  it('is none when nothing was recorded, the recording failed, or it recorded a conversation (<Dial record>)', () => {
    expect(decideOutcome(message(0, { status: 'absent' }), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    expect(decideOutcome(message(30, { status: 'failed' }), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    expect(decideOutcome(message(30, { voice: false }), DEFAULTS)).toEqual({ outcome: 'not-missed' });
    expect(voicemailOf(message(30, { voice: false }), 3)).toBeUndefined();
  });

  it('keeps the reason of a <Dial> nobody answered, and never unanswers a call', () => {
    const rang = { ...message(25), legs: new Map([['CA1', { status: 'no-answer' as const, machine: false }]]) };
    expect(decideOutcome(rang, DEFAULTS)).toEqual(missed('no-answer', 'no-answer'));
    const answered = { ...message(25), legs: new Map([['CA1', { status: 'completed' as const, machine: false }]]) };
    expect(decideOutcome(answered, DEFAULTS)).toEqual({ outcome: 'answered' });
  });

  it('is the longest message, with its transcript once one came', () => {
    const two: CallFacts = {
      ...facts({ root: ['completed', 60] }),
      recordings: new Map([
        ['RE1', { status: 'completed', seconds: 5, voice: true }],
        ['RE2', { status: 'completed', seconds: 20, voice: true, transcript: 'call me back' }],
      ]),
    };
    expect(voicemailOf(two, 3)).toEqual({ recordingSid: 'RE2', durationSeconds: 20, transcript: 'call me back' });
  });
});

describe('what a reason means', () => {
  it('counts each reason under the status Twilio has a word for, else no-answer', () => {
    const statuses = Object.fromEntries(MISSED_REASONS.map((reason) => [reason, statusOfReason(reason)]));
    expect(statuses).toEqual({
      'no-answer': 'no-answer',
      busy: 'busy',
      failed: 'failed',
      abandoned: 'no-answer',
      'short-abandoned': 'no-answer',
      'queue-abandoned': 'no-answer',
      'queue-full': 'no-answer',
      'queue-left': 'no-answer',
      ivr: 'no-answer',
      voicemail: 'no-answer',
      canceled: 'canceled',
    });
  });

  it('opens a callback for every reason but short-abandoned', () => {
    expect(MISSED_REASONS.filter((reason) => !opensCallback(reason))).toEqual(['short-abandoned']);
  });

  it('knows the terminal statuses', () => {
    expect(['completed', 'busy', 'failed', 'no-answer', 'canceled'].every((s) => isTerminal(s as TerminalStatus))).toBe(true);
    expect(['queued', 'ringing', 'in-progress'].some((s) => isTerminal(s as TerminalStatus))).toBe(false);
  });
});
