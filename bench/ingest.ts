/**
 * Ingestion in process: the BUNDLED webhook handler invoked with signed API Gateway events
 * against DynamoDB Local, against a baseline of the same TransactWriteItems sent bare with the
 * SDK, at the same concurrency. Then the duplicate path: every call delivered 3 times.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { signLikeTwilio } from '../dev/sign.js';
import { createTable } from '../dev/table.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { countChange, countedKey, evidenceUpdate, parsePendingCall } from '../lib/ledger/call-item.js';
import { type CallReport, classifyStatusCallback } from '../lib/ledger/calls.js';
import { readLedgerSettings } from '../lib/ledger/settings.js';
import { createLedger } from '../lib/ledger/store.js';
import { createDocumentClient } from '../lib/platform/aws.js';
import { mapLimit } from '../lib/platform/pool.js';
import { callKey } from '../lib/table/keys.js';
import { bundle, loadHandler, localClient, percentile } from './build.js';
import { type MeterReading, startMeter } from './meter.js';

const ACCOUNT_SID = `AC${'c'.repeat(32)}`;
const TOKEN = 'bench-token';
const BASE = 'https://bench.example/prod';

export interface RunFigures {
  calls: number;
  deliveries: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMiB: number;
}

/** What one webhook call costs in DynamoDB, from the metering proxy (bench/meter.ts). */
export interface PerCall {
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
}

export interface IngestResult {
  concurrency: number;
  handler: RunFigures;
  baseline: RunFigures;
  ratio: number;
  duplicates: RunFigures & { items: number };
  /**
   * What each kind of callback costs through the bundled webhook (issue 27): per callback, in
   * the order Twilio sends a call's callbacks, for answered `<Dial>` calls, unanswered ones, and
   * callers who hung up in a queue; and each call's callbacks together.
   */
  byKind: { kind: string; perCallback: PerCall }[];
  perCallFlow: { flow: string; perCall: PerCall }[];
  /** Answered calls through the same bundled webhook (issue 15's hot-path bound). */
  answered: {
    /** Numbers with no open callback: the common case. */
    noCallback: RunFigures & { perCall: PerCall };
    /** Numbers with an open callback that the call resolves. */
    resolving: RunFigures & { perCall: PerCall; resolved: number };
    /** The missed-call path through the same handler, metered likewise. */
    missedPerCall: PerCall;
    /** noCallback calls/s ÷ the missed-call path's calls/s. */
    ratioToMissed: number;
  };
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<RunFigures> {
  const latencies: number[] = [];
  let peak = process.memoryUsage().rss;
  const started = performance.now();
  await mapLimit(items, concurrency, async (item) => {
    const t = performance.now();
    await fn(item);
    latencies.push(performance.now() - t);
    peak = Math.max(peak, process.memoryUsage().rss);
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    calls: items.length,
    deliveries: items.length,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(items.length / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    peakRssMiB: Math.round(peak / 2 ** 20),
  };
}

function params(callSid: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'no-answer',
    Direction: 'inbound',
    From: `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`,
    To: '+14155559876',
    Timestamp: new Date().toUTCString(),
  };
}

/** The final status callback of an outbound call to `to` that a person answered for 60 s. */
function answeredParams(to: string, startedMsAgo = 0): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: `CA${randomBytes(16).toString('hex')}`,
    CallStatus: 'completed',
    Direction: 'outbound-api',
    From: '+14155559876',
    To: to,
    CallDuration: '60',
    Timestamp: new Date(Date.now() - startedMsAgo + 60_000).toUTCString(),
  };
}

/** How many items of `type` the table holds (a Scan answers 1 MB at a time: every page counted). */
async function countItems(docs: ReturnType<typeof createDocumentClient>, tableName: string, type: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await docs.send(
      new ScanCommand({
        TableName: tableName,
        Select: 'COUNT',
        FilterExpression: '#t = :type',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':type': type },
        ExclusiveStartKey: start,
      }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

const perCall = (reading: MeterReading, calls: number): PerCall => ({
  requests: Object.fromEntries(Object.entries(reading.requests).map(([op, n]) => [op, Number((n / calls).toFixed(3))])),
  readUnits: Number((reading.readUnits / calls).toFixed(3)),
  writeUnits: Number((reading.writeUnits / calls).toFixed(3)),
});

function event(p: Record<string, string>, resource = '/twilio/call-status'): APIGatewayProxyEvent {
  const headers = {
    Host: 'bench.example',
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Twilio-Signature': signLikeTwilio(TOKEN, `${BASE}${resource}`, p),
  };
  return {
    resource,
    path: resource,
    httpMethod: 'POST',
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: new URLSearchParams(p).toString(),
    isBase64Encoded: false,
    requestContext: { path: `/prod${resource}`, stage: 'prod' } as APIGatewayProxyEvent['requestContext'],
  };
}

const context = { awsRequestId: 'bench', functionName: 'webhook' } as unknown as Context;

/** Runs `fn` against a fresh DynamoDB Local (each measured phase gets its own emulator). */
export type Fresh = <T>(fn: (endpoint: string) => Promise<T>) => Promise<T>;

export async function ingest(fresh: Fresh, calls: number, concurrency: number): Promise<IngestResult> {
  const { file } = await bundle('functions/webhook.ts', 'webhook');
  const load = async (client: DynamoDBClient, endpoint: string, tableName: string) => {
    await createTable(client, tableName);
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TOKEN,
      PUBLIC_BASE_URL: BASE,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    return loadHandler<(e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>>(file);
  };
  const sids = Array.from({ length: calls }, () => `CA${randomBytes(16).toString('hex')}`);

  const handlerRun = await fresh(async (endpoint) => {
    const handler = await load(localClient(endpoint), endpoint, 'bench-ingest');
    const events = sids.map((sid) => event(params(sid)));
    return pool(events, concurrency, async (e) => {
      const r = await handler(e, context);
      if (r.statusCode !== 204) throw new Error(`handler answered ${r.statusCode}: ${r.body}`);
    });
  });

  const baselineRun = await fresh(async (endpoint) => {
    const baselineTable = 'bench-bare';
    await createTable(localClient(endpoint), baselineTable);
    const docs = createDocumentClient(localClient(endpoint));
    const reports: CallReport[] = sids.map((sid) => classifyStatusCallback(params(sid)));
    // The same two requests the ledger makes for a root that ends missed, sent bare: the evidence
    // write, then the decision's transaction (the call's outcome and its day's counters).
    return pool(reports, concurrency, async (report) => {
      const now = new Date();
      const at = now.toISOString();
      await docs.send(
        new UpdateCommand(
          evidenceUpdate(report, now, { tableName: baselineTable, retentionDays: 90, settleAt: undefined, answered: false }),
        ),
      );
      const counted = countedKey({
        day: at.slice(0, 10),
        status: 'no-answer',
        source: 'status-callback',
        reason: 'no-answer',
        afterHours: false,
      });
      await docs.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: baselineTable,
                Key: { pk: callKey(report.rootCallSid) },
                UpdateExpression: 'SET outcome = :missed, countedAs = :counted',
                ConditionExpression: 'ev = :ev',
                ExpressionAttributeValues: { ':missed': 'missed', ':counted': counted, ':ev': 1 },
              },
            },
            ...countChange(baselineTable, undefined, counted, at, report.rootCallSid),
          ],
        }),
      );
    });
  });

  const dup = await fresh(async (endpoint) => {
    const dupTable = 'bench-dup';
    const docs = createDocumentClient(localClient(endpoint));
    const dupHandler = await load(localClient(endpoint), endpoint, dupTable);
    const dupSids = sids.map(() => `CA${randomBytes(16).toString('hex')}`);
    const deliveries = dupSids.flatMap((sid) => {
      const p = params(sid);
      return [event(p), event(p), event(p)];
    });
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j] as APIGatewayProxyEvent, deliveries[i] as APIGatewayProxyEvent];
    }
    const dupRun = await pool(deliveries, concurrency, async (e) => {
      const r = await dupHandler(e, context);
      if (r.statusCode !== 204) throw new Error(`handler answered ${r.statusCode}: ${r.body}`);
    });
    const items = await countItems(docs, dupTable, 'call');
    return { dupRun, items };
  });
  const { dupRun, items } = dup;

  const answered = await fresh(async (endpoint) => {
    const meter = await startMeter(endpoint);
    try {
      const tableName = 'bench-answered';
      const handler = await load(localClient(endpoint), meter.endpoint, tableName);
      const ok = async (e: APIGatewayProxyEvent) => {
        const r = await handler(e, context);
        if (r.statusCode !== 204) throw new Error(`handler answered ${r.statusCode}: ${r.body}`);
      };
      const number = (i: number) => `+1212${String(5_550_000 + i).padStart(7, '0')}`;
      // 1. Answered calls of numbers with no open callback.
      meter.reset();
      const noCallback = await pool(
        Array.from({ length: calls }, (_, i) => event(answeredParams(number(i)))),
        concurrency,
        ok,
      );
      const noCallbackReading = meter.read();
      // 2. The missed-call path through the same handler and meter, for the ratio.
      meter.reset();
      const missedRun = await pool(
        sids.map((sid) => event(params(sid))),
        concurrency,
        ok,
      );
      const missedReading = meter.read();
      // 3. Numbers with an open callback (a miss applied to its contact), then the call that resolves it.
      const resolvingCount = Math.max(50, Math.floor(calls / 10));
      const docs = createDocumentClient(localClient(endpoint));
      const ledger = createLedger(docs, { tableName, retentionDays: 90, settings: readLedgerSettings({}) });
      const store = createContactsStore(docs, { tableName });
      const missedAt = Date.now() - 3_600_000;
      await mapLimit(
        Array.from({ length: resolvingCount }, (_, i) => number(100_000 + i)),
        concurrency,
        async (phone) => {
          const report = classifyStatusCallback({
            ...params(`CA${randomBytes(16).toString('hex')}`),
            From: phone,
            Timestamp: new Date(missedAt).toUTCString(),
          });
          await ledger.record(report);
          const item = (
            await docs.send(new GetCommand({ TableName: tableName, Key: { pk: callKey(report.rootCallSid) }, ConsistentRead: true }))
          ).Item;
          const work = item === undefined ? undefined : parsePendingCall(item);
          if (work !== undefined) await store.apply(work);
        },
      );
      meter.reset();
      const resolving = await pool(
        Array.from({ length: resolvingCount }, (_, i) => event(answeredParams(number(100_000 + i), 1_800_000))),
        concurrency,
        ok,
      );
      const resolvingReading = meter.read();
      // A Scan answers 1 MB at a time: count every page.
      const resolved = await countItems(docs, tableName, 'resolution');
      return {
        noCallback: { ...noCallback, perCall: perCall(noCallbackReading, calls) },
        resolving: { ...resolving, perCall: perCall(resolvingReading, resolvingCount), resolved },
        missedPerCall: perCall(missedReading, calls),
        ratioToMissed: Number((noCallback.perSecond / missedRun.perSecond).toFixed(2)),
      };
    } finally {
      await meter.stop();
    }
  });

  const kinds = await fresh(async (endpoint) => {
    const meter = await startMeter(endpoint);
    try {
      const handler = await load(localClient(endpoint), meter.endpoint, 'bench-kinds');
      const byKind: { kind: string; perCallback: PerCall }[] = [];
      const perCallFlow: { flow: string; perCall: PerCall }[] = [];
      const n = Math.max(50, Math.floor(calls / 3));
      for (const flow of callFlows(n)) {
        const total: MeterReading = { requests: {}, readUnits: 0, writeUnits: 0, errors: 0 };
        for (const step of flow.steps) {
          meter.reset();
          await pool(step.events, concurrency, async (e) => {
            const r = await handler(e, context);
            if (r.statusCode >= 300) throw new Error(`handler answered ${r.statusCode}: ${r.body}`);
          });
          const reading = meter.read();
          byKind.push({ kind: `${flow.name}: ${step.kind}`, perCallback: perCall(reading, n) });
          for (const [op, k] of Object.entries(reading.requests)) total.requests[op] = (total.requests[op] ?? 0) + k;
          total.readUnits += reading.readUnits;
          total.writeUnits += reading.writeUnits;
        }
        perCallFlow.push({ flow: flow.name, perCall: perCall(total, n) });
      }
      return { byKind, perCallFlow };
    } finally {
      await meter.stop();
    }
  });

  return {
    concurrency,
    ...kinds,
    handler: handlerRun,
    baseline: baselineRun,
    ratio: Number((handlerRun.perSecond / baselineRun.perSecond).toFixed(2)),
    duplicates: { ...dupRun, calls: calls, items },
    answered,
  };
}

/** `n` calls of each flow, as signed events per step (each step's callbacks of every call, in Twilio's order). */
function callFlows(n: number): { name: string; steps: { kind: string; events: APIGatewayProxyEvent[] }[] }[] {
  const base = { AccountSid: ACCOUNT_SID, ApiVersion: '2010-04-01', To: '+14155559876', Timestamp: new Date().toUTCString() };
  const calls = Array.from({ length: n }, (_, i) => ({
    root: `CA${randomBytes(16).toString('hex')}`,
    leg: `CA${randomBytes(16).toString('hex')}`,
    from: `+1646${String(5_550_000 + i).padStart(7, '0')}`,
  }));
  const legEvent = (c: (typeof calls)[number], status: string, duration: number) =>
    event({
      ...base,
      CallSid: c.leg,
      ParentCallSid: c.root,
      CallStatus: status,
      CallDuration: String(duration),
      Direction: 'outbound-dial',
      From: '+14155559876',
      To: '+14155550181',
    });
  const dialEvent = (c: (typeof calls)[number], status: string) =>
    event(
      {
        ...base,
        CallSid: c.root,
        CallStatus: 'in-progress',
        DialCallStatus: status,
        DialCallSid: c.leg,
        DialCallDuration: status === 'completed' ? '60' : '0',
        Direction: 'inbound',
        From: c.from,
      },
      '/twilio/dial-status',
    );
  const endEvent = (c: (typeof calls)[number], duration: number) =>
    event({ ...base, CallSid: c.root, CallStatus: 'completed', CallDuration: String(duration), Direction: 'inbound', From: c.from });
  const queueEvent = (c: (typeof calls)[number]) =>
    event(
      {
        ...base,
        CallSid: c.root,
        CallStatus: 'completed',
        QueueResult: 'hangup',
        QueueSid: `QU${'b'.repeat(32)}`,
        QueueTime: '45',
        Direction: 'inbound',
        From: c.from,
      },
      '/twilio/queue-status',
    );
  const answered = calls.slice();
  const missed = calls.map(() => ({
    root: `CA${randomBytes(16).toString('hex')}`,
    leg: `CA${randomBytes(16).toString('hex')}`,
    from: `+1718${String(5_550_000 + Math.floor(Math.random() * 1e6)).padStart(7, '0')}`,
  }));
  const queued = calls.map(() => ({
    root: `CA${randomBytes(16).toString('hex')}`,
    leg: '',
    from: `+1917${String(5_550_000 + Math.floor(Math.random() * 1e6)).padStart(7, '0')}`,
  }));
  // Voicemail after hours (issue 28): TwiML alone handles the call (<Say>, <Record>); the root
  // ends, then the recording's and the transcription's callbacks make it a miss with its message.
  const voicemail = calls.map(() => ({
    root: `CA${randomBytes(16).toString('hex')}`,
    leg: `RE${randomBytes(16).toString('hex')}`,
    from: `+1347${String(5_550_000 + Math.floor(Math.random() * 1e6)).padStart(7, '0')}`,
  }));
  const recordingEvent = (c: (typeof calls)[number]) =>
    event(
      {
        ...base,
        CallSid: c.root,
        RecordingSid: c.leg,
        RecordingStatus: 'completed',
        RecordingDuration: '21',
        RecordingSource: 'RecordVerb',
        RecordingChannels: '1',
      },
      '/twilio/recording-status',
    );
  const transcriptionEvent = (c: (typeof calls)[number]) =>
    event(
      {
        ...base,
        CallSid: c.root,
        RecordingSid: c.leg,
        TranscriptionSid: `TR${c.leg.slice(2)}`,
        TranscriptionStatus: 'completed',
        TranscriptionText: 'Hi, this is about my order, please call me back at this number.',
        From: c.from,
      },
      '/twilio/transcription',
    );
  return [
    {
      name: 'answered <Dial>',
      steps: [
        { kind: 'answered leg', events: answered.map((c) => legEvent(c, 'completed', 60)) },
        { kind: 'Dial action (completed)', events: answered.map((c) => dialEvent(c, 'completed')) },
        { kind: 'root end', events: answered.map((c) => endEvent(c, 70)) },
      ],
    },
    {
      name: 'unanswered <Dial>',
      steps: [
        { kind: 'unanswered leg', events: missed.map((c) => legEvent(c, 'no-answer', 0)) },
        { kind: 'Dial action (no-answer, ends the call)', events: missed.map((c) => dialEvent(c, 'no-answer')) },
        { kind: 'root end', events: missed.map((c) => endEvent(c, 31)) },
      ],
    },
    {
      name: 'voicemail after hours (<Record> only)',
      steps: [
        { kind: 'root end (no <Dial> evidence first)', events: voicemail.map((c) => endEvent(c, 45)) },
        { kind: 'recording status (completed, 21 s)', events: voicemail.map((c) => recordingEvent(c)) },
        { kind: 'transcription (completed)', events: voicemail.map((c) => transcriptionEvent(c)) },
      ],
    },
    {
      name: 'hung up in a queue',
      steps: [
        { kind: 'queue result (hangup)', events: queued.map((c) => queueEvent(c)) },
        { kind: 'root end', events: queued.map((c) => endEvent(c, 50)) },
      ],
    },
  ];
}
