/**
 * From a decided miss to its `Callback opened` event and its text-back, through `npm start`'s
 * stack with `TEXT_BACK=on`: signed missed-call webhooks, one every `spacingMs`, each from a
 * number of its own; the local bus and the local Twilio API are polled every 50 ms for the event
 * and the text of each. Also what it took: the Lambda invocations of each function the stack
 * logged, per miss. Local figures: the local stream pollers read every 500 ms (Lambda's about 4
 * times a second), so compare the two topologies in the same run or on one machine, not with AWS.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { postLikeTwilio } from '../dev/sign.js';
import { startLocalStack } from '../dev/stack.js';
import { percentile } from './build.js';

export interface PipelineBench {
  misses: number;
  /** Webhook answered (the miss decided and written) → the event on the bus, ms. */
  toEvent: { p50: number; p95: number; max: number };
  /** Webhook answered → the text accepted by the (local) Twilio API, ms. */
  toText: { p50: number; p95: number; max: number };
  /** Misses whose event or text never came within the wait. */
  lost: { events: number; texts: number };
  /** Lambda invocations per miss, by function, as the stack logged them. */
  invocationsPerMiss: Record<string, number>;
  /** Events published per miss (every detail type), and texts per miss. */
  eventsPerMiss: number;
  textsPerMiss: number;
  /**
   * Time to first byte of a 60 s voicemail's MP3 (270 KB): through the stack's
   * `GET /recordings/{sid}` against the local Twilio API directly, medians of 20 each, interleaved.
   */
  recordingTtfb: { directMs: number; stackMs: number; ratio: number; bytes: number };
  /**
   * A forgotten voicemail call (its item removed, as its TTL does) → its recording deleted at the
   * local Twilio API: the delay, and what it took per call (invocations, events, Twilio DELETEs).
   */
  recordingDeletion: {
    calls: number;
    toDeleted: { p50: number; p95: number; max: number };
    left: number;
    invocationsPerCall: Record<string, number>;
    eventsPerCall: number;
  };
}

const summary = (xs: readonly number[]) => ({
  p50: Math.round(percentile(xs, 50)),
  p95: Math.round(percentile(xs, 95)),
  max: Math.round(Math.max(0, ...xs)),
});

/** Lambda invocations per function name in the stack's output (`(λ: name) RequestId: …`). */
function invocations(output: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of output.matchAll(/\(λ: ([\w-]+)\) RequestId/g)) {
    const name = match[1] ?? '';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** One signed missed-call webhook from `phone` (its own status callback: no-answer). */
async function send(target: string, phone: string): Promise<void> {
  const params = {
    AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: `CA${randomBytes(16).toString('hex')}`,
    CallStatus: 'no-answer',
    CallDuration: '0',
    Direction: 'inbound',
    From: phone,
    To: '+14155559876',
    Timestamp: new Date().toUTCString(),
  };
  const response = await postLikeTwilio(`${target}/twilio/call-status`, params, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`the webhook answered ${response.status}`);
}

/** Time to the response's headers (what `fetch` resolves on), then the body read to its end. */
async function firstByte(url: string, headers: Record<string, string>): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const response = await fetch(url, { headers });
  const ms = performance.now() - t;
  const bytes = (await response.arrayBuffer()).byteLength;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return { ms, bytes };
}

async function recordingFirstByte(stack: Awaited<ReturnType<typeof startLocalStack>>): Promise<PipelineBench['recordingTtfb']> {
  const sid = `RE${randomBytes(16).toString('hex')}`;
  await fetch(`${stack.twilioApi}/__local/recordings`, {
    method: 'POST',
    body: JSON.stringify({ sid, callSid: `CA${randomBytes(16).toString('hex')}`, durationSeconds: 60 }),
  });
  const auth = `Basic ${Buffer.from(`${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}:${LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
  const direct = `${stack.twilioApi}/2010-04-01/Accounts/${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}/Recordings/${sid}.mp3`;
  const through = `${stack.target}/recordings/${sid}`;
  // One of each first: the operator function's bundle loads on its first invocation.
  await firstByte(through, { 'x-api-key': stack.key, Accept: 'audio/mpeg' });
  const a: number[] = [];
  const b: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    a.push((await firstByte(direct, { Authorization: auth })).ms);
    const viaStack = await firstByte(through, { 'x-api-key': stack.key, Accept: 'audio/mpeg' });
    b.push(viaStack.ms);
    bytes = viaStack.bytes;
  }
  const directMs = percentile(a, 50);
  const stackMs = percentile(b, 50);
  return {
    directMs: Number(directMs.toFixed(1)),
    stackMs: Number(stackMs.toFixed(1)),
    ratio: Number((stackMs / directMs).toFixed(1)),
    bytes,
  };
}

/** A call TwiML alone handled on which the caller left a 20 s message: its end, then its recording's callback. */
async function leaveVoicemail(target: string, phone: string, recordingSid: string): Promise<string> {
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  const base = { AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, CallSid: callSid, From: phone, To: '+14155559876' };
  const end = { ...base, CallStatus: 'completed', CallDuration: '30', Direction: 'inbound', Timestamp: new Date().toUTCString() };
  const recording = {
    ...base,
    RecordingSid: recordingSid,
    RecordingStatus: 'completed',
    RecordingDuration: '20',
    RecordingChannels: '1',
    RecordingSource: 'RecordVerb',
  };
  for (const [route, params] of [
    ['/twilio/call-status', end],
    ['/twilio/recording-status', recording],
  ] as const) {
    const response = await postLikeTwilio(`${target}${route}`, params, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
    await response.arrayBuffer();
    if (response.status >= 300) throw new Error(`${route} answered ${response.status}`);
  }
  return callSid;
}

/** Voicemail calls left, Twilio keeping their recordings; each call item removed (as its TTL does), one every `spacingMs`. */
async function recordingDeletion(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  calls: number,
  spacingMs: number,
): Promise<PipelineBench['recordingDeletion']> {
  const docs = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: LOCAL_DEFAULTS.AWS_REGION,
      credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
    }),
  );
  const tableName = 'missed-call-ledger-local';
  const block = 1000 + Math.floor(Math.random() * 8000);
  const left: { callSid: string; recordingSid: string }[] = [];
  for (let i = 0; i <= calls; i++) {
    const recordingSid = `RE${randomBytes(16).toString('hex')}`;
    const callSid = await leaveVoicemail(stack.target, `+1415${block}${String(i).padStart(3, '0')}`, recordingSid);
    await fetch(`${stack.twilioApi}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({ sid: recordingSid, callSid, durationSeconds: 20 }),
    });
    left.push({ callSid, recordingSid });
  }
  // Every item has its recording evidence before any is removed.
  for (const { callSid } of left) {
    for (let waited = 0; waited < 10_000; waited += 100) {
      const item = (await docs.send(new GetCommand({ TableName: tableName, Key: { pk: `CALL#${callSid}` }, ConsistentRead: true }))).Item;
      if (typeof item?.recordingSeenAt === 'string') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const auth = `Basic ${Buffer.from(`${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}:${LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
  const gone = async (sid: string) =>
    (
      await fetch(`${stack.twilioApi}/2010-04-01/Accounts/${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}/Recordings/${sid}.json`, {
        headers: { Authorization: auth },
      })
    ).status === 404;
  const awaitGone = async (sid: string, deadline: number) => {
    while (Date.now() < deadline && !(await gone(sid))) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  // The first one warms the recordings function (its bundle loads on its first invocation).
  const [warm, ...measured] = left;
  if (warm === undefined) throw new Error('no call');
  await docs.send(new DeleteCommand({ TableName: tableName, Key: { pk: `CALL#${warm.callSid}` } }));
  await awaitGone(warm.recordingSid, Date.now() + 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = invocations(stack.output());
  const eventsBefore = ((await (await fetch(`${stack.events}/__local/events`)).json()) as unknown[]).length;
  const removedAt = new Map<string, number>();
  const deletedAt = new Map<string, number>();
  const watch = Promise.all(
    measured.map(async ({ recordingSid }) => {
      while (!removedAt.has(recordingSid)) await new Promise((resolve) => setTimeout(resolve, 20));
      await awaitGone(recordingSid, Date.now() + 30_000);
      if (await gone(recordingSid)) deletedAt.set(recordingSid, performance.now());
    }),
  );
  for (const { callSid, recordingSid } of measured) {
    await docs.send(new DeleteCommand({ TableName: tableName, Key: { pk: `CALL#${callSid}` } }));
    removedAt.set(recordingSid, performance.now());
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  await watch;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = invocations(stack.output());
  const eventsAfter = ((await (await fetch(`${stack.events}/__local/events`)).json()) as unknown[]).length;
  const delays = measured.flatMap(({ recordingSid }) => {
    const start = removedAt.get(recordingSid);
    const end = deletedAt.get(recordingSid);
    return start === undefined || end === undefined ? [] : [Math.max(0, end - start)];
  });
  return {
    calls: measured.length,
    toDeleted: summary(delays),
    left: measured.length - delays.length,
    invocationsPerCall: Object.fromEntries(
      [...after]
        .map(([name, n]) => [name, Number(((n - (before.get(name) ?? 0)) / measured.length).toFixed(2))] as const)
        .filter(([, n]) => n > 0),
    ),
    eventsPerCall: Number(((eventsAfter - eventsBefore) / measured.length).toFixed(2)),
  };
}

export async function pipelineBench(misses: number, spacingMs = 250): Promise<PipelineBench> {
  const stack = await startLocalStack({
    TWILIO_ACCOUNT_SID: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
    PUBLIC_BASE_URL: '',
    TEXT_BACK: 'on',
    // The settle sweep's own invocations are not the pipeline's: rarely, during the run.
    LOCAL_SETTLE_SWEEP_SECONDS: '3600',
  });
  try {
    const block = 1000 + Math.floor(Math.random() * 8000);
    // One miss first, its event and its text awaited: every function on the way is warm (the
    // local stack loads a function's bundle on its first invocation, as Lambda's cold start).
    const warmPhone = `+1415${block}999`;
    await send(stack.target, warmPhone);
    for (let waited = 0; waited < 30_000; waited += 100) {
      const messages = (await (await fetch(`${stack.twilioApi}/__local/messages`)).json()) as { to: string }[];
      if (messages.some((m) => m.to === warmPhone)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = invocations(stack.output());
    const [eventsBefore, textsBefore] = await Promise.all([
      fetch(`${stack.events}/__local/events`).then((r) => r.json() as Promise<unknown[]>),
      fetch(`${stack.twilioApi}/__local/messages`).then((r) => r.json() as Promise<unknown[]>),
    ]);
    const phones = Array.from({ length: misses }, (_, i) => `+1415${block}${String(i).padStart(3, '0')}`);
    const answeredAt = new Map<string, number>();
    const eventAt = new Map<string, number>();
    const textAt = new Map<string, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const [events, messages] = await Promise.all([
          fetch(`${stack.events}/__local/events`).then((r) => r.json() as Promise<{ detailType: string; detail: { phone?: string } }[]>),
          fetch(`${stack.twilioApi}/__local/messages`).then((r) => r.json() as Promise<{ to: string }[]>),
        ]);
        const now = performance.now();
        for (const e of events) {
          const phone = e.detail.phone;
          if (e.detailType === 'Callback opened' && phone !== undefined && !eventAt.has(phone)) eventAt.set(phone, now);
        }
        for (const m of messages) if (!textAt.has(m.to)) textAt.set(m.to, now);
        if (phones.every((p) => eventAt.has(p) && textAt.has(p))) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    for (const phone of phones) {
      await send(stack.target, phone);
      answeredAt.set(phone, performance.now());
      await new Promise((resolve) => setTimeout(resolve, spacingMs));
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !phones.every((p) => eventAt.has(p) && textAt.has(p))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    polling = false;
    await poll;
    // Let the last invocations' log lines land.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = invocations(stack.output());
    const delay = (at: Map<string, number>) =>
      phones.flatMap((p) => {
        const end = at.get(p);
        const start = answeredAt.get(p);
        return end === undefined || start === undefined ? [] : [Math.max(0, end - start)];
      });
    const perMiss = Object.fromEntries(
      [...after].map(([name, n]) => [name, Number(((n - (before.get(name) ?? 0)) / misses).toFixed(2))] as const).filter(([, n]) => n > 0),
    );
    // Counted before the recordings' benches below, whose voicemail calls publish events of their own.
    const [events, texts] = await Promise.all([
      fetch(`${stack.events}/__local/events`).then((r) => r.json() as Promise<unknown[]>),
      fetch(`${stack.twilioApi}/__local/messages`).then((r) => r.json() as Promise<unknown[]>),
    ]);
    const recordingTtfb = await recordingFirstByte(stack);
    const deletion = await recordingDeletion(stack, misses, spacingMs);
    return {
      misses,
      toEvent: summary(delay(eventAt)),
      toText: summary(delay(textAt)),
      lost: { events: phones.filter((p) => !eventAt.has(p)).length, texts: phones.filter((p) => !textAt.has(p)).length },
      invocationsPerMiss: perMiss,
      eventsPerMiss: Number(((events.length - eventsBefore.length) / misses).toFixed(2)),
      textsPerMiss: Number(((texts.length - textsBefore.length) / misses).toFixed(2)),
      recordingTtfb,
      recordingDeletion: deletion,
    };
  } finally {
    await stack.stop();
  }
}
