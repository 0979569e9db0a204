/**
 * Real call flows as Twilio reports them: each flow's callbacks (route and parameters, as
 * Twilio's pages describe them) and what a person would say happened, written by hand from
 * Twilio's facts, never computed by the code under test. The tests deliver them in many orders,
 * duplicated and with some lost.
 */
import { ACCOUNT_SID, callSid } from './helpers.js';

export type Route =
  | '/twilio/call-status'
  | '/twilio/dial-status'
  | '/twilio/queue-status'
  | '/twilio/recording-status'
  | '/twilio/transcription';

export interface Delivery {
  route: Route;
  params: Record<string, string>;
  /** The root's own final status callback (the number's status callback). */
  rootEnd?: boolean;
}

export interface Flow {
  name: string;
  /** The TwiML the number runs, for the reader. */
  twiml: string;
  root: string;
  caller: string;
  deliveries: Delivery[];
  /** What happened: a person answered, nobody did (and why), or TwiML alone handled it. */
  expected: { outcome: 'answered' } | { outcome: 'not-missed' } | { outcome: 'missed'; reason: string; status: string };
  /** The message the caller left, as the missed call must show it. */
  voicemail?: { recordingSid: string; durationSeconds: number; transcript?: string };
}

const LINE = '+14155559876';
const OFFICE = '+14155550181';
const CELL = '+14155550182';
const T0 = Date.parse('2026-11-24T15:00:00.000Z');
/** When the flows start (`flows(n, t0)` moves them; their Timestamps follow). */
let start = T0;
const stamp = (seconds: number) => new Date(start + seconds * 1000).toUTCString().replace('GMT', '+0000');

function parentEnd(root: string, caller: string, duration: number, status = 'completed'): Delivery {
  return {
    route: '/twilio/call-status',
    rootEnd: true,
    params: {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: root,
      CallStatus: status,
      CallDuration: String(duration),
      Direction: 'inbound',
      From: caller,
      To: LINE,
      Called: LINE,
      Caller: caller,
      CallbackSource: 'call-progress-events',
      SequenceNumber: '2',
      Timestamp: stamp(duration),
    },
  };
}

function leg(root: string, sid: string, to: string, status: string, at: number, duration: number, answeredBy?: string): Delivery {
  return {
    route: '/twilio/call-status',
    params: {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: sid,
      ParentCallSid: root,
      CallStatus: status,
      CallDuration: String(duration),
      Direction: 'outbound-dial',
      From: LINE,
      To: to,
      CallbackSource: 'call-progress-events',
      SequenceNumber: '1',
      Timestamp: stamp(at),
      ...(answeredBy === undefined ? {} : { AnsweredBy: answeredBy }),
    },
  };
}

function dial(root: string, caller: string, status: string, dialSid: string | undefined, duration: number): Delivery {
  return {
    route: '/twilio/dial-status',
    params: {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: root,
      CallStatus: 'in-progress',
      DialCallStatus: status,
      ...(dialSid === undefined ? {} : { DialCallSid: dialSid }),
      DialCallDuration: String(duration),
      Direction: 'inbound',
      From: caller,
      To: LINE,
    },
  };
}

function queue(root: string, caller: string, result: string, seconds: number): Delivery {
  return {
    route: '/twilio/queue-status',
    params: {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: root,
      CallStatus: 'in-progress',
      QueueResult: result,
      QueueSid: `QU${'a'.repeat(32)}`,
      QueueTime: String(seconds),
      Direction: 'inbound',
      From: caller,
      To: LINE,
    },
  };
}

const recordingSid = () => `RE${callSid().slice(2)}`;

/** `<Record recordingStatusCallback>`: the message is ready (`completed`), or nothing was recorded (`absent`). */
function recording(root: string, caller: string, sid: string, status: string, seconds: number, at: number): Delivery {
  return {
    route: '/twilio/recording-status',
    params: {
      AccountSid: ACCOUNT_SID,
      CallSid: root,
      RecordingSid: sid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${sid}`,
      RecordingStatus: status,
      RecordingDuration: String(seconds),
      RecordingChannels: '1',
      RecordingSource: 'RecordVerb',
      RecordingStartTime: stamp(at - seconds),
      Timestamp: stamp(at),
      From: caller,
      To: LINE,
    },
  };
}

/** `<Record transcribeCallback>`: the message's transcript. */
function transcription(root: string, caller: string, sid: string, text: string): Delivery {
  return {
    route: '/twilio/transcription',
    params: {
      AccountSid: ACCOUNT_SID,
      CallSid: root,
      RecordingSid: sid,
      TranscriptionSid: `TR${sid.slice(2)}`,
      TranscriptionStatus: 'completed',
      TranscriptionText: text,
      TranscriptionType: 'fast',
      From: caller,
      To: LINE,
      CallStatus: 'completed',
      Direction: 'inbound',
    },
  };
}

/** Every flow, with fresh SIDs and a caller number of its own (`n` keeps numbers apart). */
export function flows(n: number, t0 = T0): Flow[] {
  start = t0;
  const caller = (i: number) => `+1415555${String(1000 + n * 20 + i).padStart(4, '0')}`;
  const make = (
    i: number,
    name: string,
    twiml: string,
    build: (root: string, from: string) => Omit<Flow, 'name' | 'twiml' | 'root' | 'caller'>,
  ) => {
    const root = callSid();
    const from = caller(i);
    return { name, twiml, root, caller: from, ...build(root, from) };
  };
  return [
    make(0, 'hunt answered by the cell', '<Dial timeout="15">office</Dial><Dial>cell</Dial>', (root, from) => {
      const [office, cell] = [callSid(), callSid()];
      return {
        deliveries: [leg(root, office, OFFICE, 'no-answer', 15, 0), leg(root, cell, CELL, 'completed', 80, 62), parentEnd(root, from, 81)],
        expected: { outcome: 'answered' },
      };
    }),
    make(1, 'hunt nobody answered', '<Dial timeout="15">office</Dial><Dial timeout="20">cell</Dial>', (root, from) => ({
      deliveries: [
        leg(root, callSid(), OFFICE, 'no-answer', 15, 0),
        leg(root, callSid(), CELL, 'no-answer', 36, 0),
        parentEnd(root, from, 37),
      ],
      expected: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
    })),
    make(
      2,
      'simultaneous ring, one answers',
      '<Dial action=…><Number>a</Number><Number>b</Number><Number>c</Number></Dial>',
      (root, from) => {
        const [a, b, c] = [callSid(), callSid(), callSid()];
        return {
          deliveries: [
            leg(root, a, OFFICE, 'canceled', 6, 0),
            leg(root, b, CELL, 'completed', 70, 64),
            leg(root, c, '+14155550183', 'canceled', 6, 0),
            dial(root, from, 'completed', b, 64),
            parentEnd(root, from, 71),
          ],
          expected: { outcome: 'answered' },
        };
      },
    ),
    make(3, 'caller hangs up while it rings', '<Dial>office</Dial>', (root, from) => ({
      deliveries: [leg(root, callSid(), OFFICE, 'canceled', 24, 0), parentEnd(root, from, 24)],
      expected: { outcome: 'missed', reason: 'abandoned', status: 'no-answer' },
    })),
    make(4, 'caller hangs up within 10 s (a misdial)', '<Dial>office</Dial>', (root, from) => ({
      deliveries: [leg(root, callSid(), OFFICE, 'canceled', 4, 0), parentEnd(root, from, 4)],
      expected: { outcome: 'missed', reason: 'short-abandoned', status: 'no-answer' },
    })),
    make(5, 'hang-up while ringing, reported no-answer', '<Dial>office</Dial>', (root, from) => ({
      deliveries: [leg(root, callSid(), OFFICE, 'no-answer', 6, 0), parentEnd(root, from, 6)],
      expected: { outcome: 'missed', reason: 'short-abandoned', status: 'no-answer' },
    })),
    make(
      6,
      'a forwarded cell phone’s voicemail answers',
      '<Dial action=…><Number machineDetection="Enable">cell</Number></Dial>',
      (root, from) => {
        const cell = callSid();
        return {
          deliveries: [
            leg(root, cell, CELL, 'completed', 48, 28, 'machine_end_beep'),
            dial(root, from, 'completed', cell, 28),
            parentEnd(root, from, 49),
          ],
          expected: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
        };
      },
    ),
    make(7, 'caller waits in a queue and hangs up', '<Enqueue action=…>support</Enqueue>', (root, from) => ({
      deliveries: [queue(root, from, 'hangup', 95), parentEnd(root, from, 97)],
      expected: { outcome: 'missed', reason: 'queue-abandoned', status: 'no-answer' },
    })),
    make(8, 'caller leaves a queue within seconds', '<Enqueue action=…>support</Enqueue>', (root, from) => ({
      deliveries: [queue(root, from, 'hangup', 3), parentEnd(root, from, 5)],
      expected: { outcome: 'missed', reason: 'short-abandoned', status: 'no-answer' },
    })),
    make(9, 'caller bridged from a queue', '<Enqueue action=…>support</Enqueue>', (root, from) => ({
      deliveries: [queue(root, from, 'bridged', 40), parentEnd(root, from, 180)],
      expected: { outcome: 'answered' },
    })),
    make(10, 'queue full', '<Enqueue action=…>support</Enqueue>', (root, from) => ({
      deliveries: [queue(root, from, 'queue-full', 0), parentEnd(root, from, 2)],
      expected: { outcome: 'missed', reason: 'queue-full', status: 'no-answer' },
    })),
    make(11, 'an IVR alone handles the call', '<Gather>…</Gather><Say>Goodbye</Say>', (root, from) => ({
      deliveries: [parentEnd(root, from, 40)],
      expected: { outcome: 'not-missed' },
    })),
    make(12, 'one phone rings out, the Dial action says no-answer', '<Dial action=…>office</Dial>', (root, from) => {
      const office = callSid();
      return {
        deliveries: [leg(root, office, OFFICE, 'no-answer', 30, 0), dial(root, from, 'no-answer', office, 0), parentEnd(root, from, 31)],
        expected: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
      };
    }),
    make(13, 'all phones busy', '<Dial>office</Dial>', (root, from) => ({
      deliveries: [leg(root, callSid(), OFFICE, 'busy', 2, 0), parentEnd(root, from, 12)],
      expected: { outcome: 'missed', reason: 'busy', status: 'busy' },
    })),
    make(14, 'answerOnBridge: the root itself says no-answer', '<Dial answerOnBridge="true">office</Dial>', (root, from) => ({
      deliveries: [leg(root, callSid(), OFFICE, 'no-answer', 30, 0), parentEnd(root, from, 0, 'no-answer')],
      expected: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
    })),
    make(
      15,
      'ring the office, then voicemail',
      '<Dial timeout="20" action=…?next=/vm>office</Dial> … <Say>Leave a message</Say><Record recordingStatusCallback=… transcribeCallback=…/>',
      (root, from) => {
        const sid = recordingSid();
        const office = callSid();
        const text = 'Hi, it is about my order, please call me back.';
        return {
          deliveries: [
            leg(root, office, OFFICE, 'no-answer', 20, 0),
            dial(root, from, 'no-answer', office, 0),
            parentEnd(root, from, 48),
            recording(root, from, sid, 'completed', 21, 48),
            transcription(root, from, sid, text),
          ],
          expected: { outcome: 'missed', reason: 'no-answer', status: 'no-answer' },
          voicemail: { recordingSid: sid, durationSeconds: 21, transcript: text },
        };
      },
    ),
    make(16, 'after hours, straight to voicemail', '<Say>We are closed</Say><Record recordingStatusCallback=…/>', (root, from) => {
      const sid = recordingSid();
      return {
        deliveries: [parentEnd(root, from, 35), recording(root, from, sid, 'completed', 18, 35)],
        expected: { outcome: 'missed', reason: 'voicemail', status: 'no-answer' },
        voicemail: { recordingSid: sid, durationSeconds: 18 },
      };
    }),
    make(17, 'hangs up at the beep (nothing recorded)', '<Say>We are closed</Say><Record recordingStatusCallback=…/>', (root, from) => ({
      deliveries: [parentEnd(root, from, 9), recording(root, from, recordingSid(), 'absent', 0, 9)],
      expected: { outcome: 'not-missed' },
    })),
    make(18, 'a 2-second recording (under VOICEMAIL_MIN_SECONDS)', '<Record recordingStatusCallback=…/>', (root, from) => ({
      deliveries: [parentEnd(root, from, 8), recording(root, from, recordingSid(), 'completed', 2, 8)],
      expected: { outcome: 'not-missed' },
    })),
  ];
}
