/**
 * A call back through Twilio (issue 29, `POST /callbacks/{phone}/call`):
 *
 * 1. the operator function's cold start with and without the place-call slice: its bundle as
 *    deployed, and the same bundle with lib/twilio/place-call.ts replaced by a stub that exports
 *    the same names and imports nothing of Twilio's (an esbuild plugin); bytes and module init
 *    (interleaved fresh Node processes, as bench/cold-start.ts);
 * 2. what one attempt costs, per outcome: the BUNDLED operator and webhook handlers in process,
 *    against DynamoDB Local behind the metering proxy (bench/meter.ts) and the local Twilio API
 *    (dev/twilio-api.ts), which places the call and plays it out with its signed requests to an
 *    HTTP server here that hands each one to the webhook handler as API Gateway would. Each
 *    attempt calls back a customer of its own whose open callback was seeded first (a missed
 *    call recorded by the ledger and applied to its contact), outside the meter. The play-out
 *    waits for the operator's answer, as a real call rings for seconds before the agent answers,
 *    so that the two sides' requests are told apart (and do not race on the calling item);
 * 3. GET /callbacks: the reads of a page of open callbacks none of which was called back, then of
 *    a page of called-back ones, and the text-back keys alone read as before issue 29.
 *
 * Every attempt's outcome is checked on its calling item: the run throws otherwise.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Plugin } from 'esbuild';
import { createTable } from '../dev/table.js';
import { type CallAnswer, type PlacedRequest, startTwilioApi } from '../dev/twilio-api.js';
import type { AttemptOutcome } from '../lib/callbacks/attempts.js';
import { parseCalling } from '../lib/callbacks/calling.js';
import { createContactsStore } from '../lib/contacts/store.js';
import { parsePendingCall } from '../lib/ledger/call-item.js';
import { classifyStatusCallback } from '../lib/ledger/calls.js';
import { readLedgerSettings } from '../lib/ledger/settings.js';
import { createLedger } from '../lib/ledger/store.js';
import { createDocumentClient } from '../lib/platform/aws.js';
import { callingKey, callKey, textBackKey } from '../lib/table/keys.js';
import { benchEnv, bundle, loadHandler, localClient, median, root } from './build.js';
import { initMs } from './cold-start.js';
import type { Fresh, PerCall } from './ingest.js';
import { type MeterReading, startMeter } from './meter.js';

const ACCOUNT_SID = `AC${'d'.repeat(32)}`;
const TOKEN = 'bench-call-back-token';
/** The business's Twilio number the customers called (their callbacks' line). */
const LINE = '+14155559876';
const AGENT = '+14155550199';
/** An agent who does not pick up (agent-missed). */
const AWAY_AGENT = '+14155550198';
const TABLE = 'bench-call-back';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** What one attempt costs in DynamoDB: as `PerCall`, and the requests refused by a condition. */
export type AttemptCost = PerCall & { conditionFailures: number };

export interface CallBackBench {
  coldStart: {
    /** Interleaved init runs of each build. */
    runs: number;
    withPlaceCall: { bytes: number; initMedianMs: number };
    withoutPlaceCall: { bytes: number; initMedianMs: number };
    /** With minus without. */
    bytesDelta: number;
    /** With ÷ without. */
    initRatio: number;
  };
  /** Attempts played per outcome (each its own customer). */
  attemptsPerOutcome: number;
  outcomes: {
    outcome: AttemptOutcome;
    script: { agent: CallAnswer; customer: CallAnswer };
    /** DynamoDB per attempt: all of it, the operator's POST, and the webhook's handling of its callbacks. */
    dynamo: AttemptCost;
    operator: AttemptCost;
    webhook: AttemptCost;
    /** The webhook's share by the request Twilio made (a request kind each attempt makes once, or not at all). */
    webhookByRequest: Partial<Record<PlacedRequest['kind'], AttemptCost>>;
    /**
     * Twilio requests per attempt: `rest` = requests the Twilio API received (the Calls create);
     * `toUs` = the signed requests it made to our URLs, by kind (its Url's TwiML, the agent's
     * call's status callback, the customer's leg's, the Dial action); `total` = both.
     */
    twilio: { rest: number; toUs: Partial<Record<PlacedRequest['kind'], number>>; total: number };
    /** From the POST to the last callback answered (informational: a played call takes no real time here). */
    wallMsMedian: number;
  }[];
  /** GET /callbacks, one page: DynamoDB requests and read units, and BatchGetItem keys per item on it. */
  worklist: {
    pageItems: number;
    withoutAttempts: WorklistPage;
    withAttempts: WorklistPage;
    /** The same page's text-back keys alone in one BatchGetItem: what the page read before issue 29. */
    textBackKeysOnly: { readUnits: number; keysPerItem: number };
    /** Read units per item the calling keys add, with and without attempts on the items. */
    callingReadUnitsPerItem: { withoutAttempts: number; withAttempts: number };
  };
}

export interface WorklistPage {
  requests: Record<string, number>;
  /** All of the page's read units, and its BatchGetItem's (the text-back and calling items) alone. */
  readUnits: number;
  batchGetReadUnits: number;
  batchGetKeysPerItem: number;
  readUnitsPerItem: number;
}

/** lib/twilio/place-call.ts replaced by the same exports without any import (no Twilio SDK, no REST layer). */
function placeCallStub(resolved: { count: number }): Plugin {
  const target = join(root, 'lib/twilio/place-call.js');
  return {
    name: 'place-call-stub',
    setup(build) {
      build.onResolve({ filter: /place-call\.js$/ }, (args) => {
        if (join(args.resolveDir, args.path) !== target) return undefined;
        resolved.count += 1;
        return { path: 'place-call', namespace: 'place-call-stub' };
      });
      build.onLoad({ filter: /.*/, namespace: 'place-call-stub' }, () => ({
        loader: 'js',
        contents: `export class CallRefusedError extends Error {
  name = 'CallRefusedError';
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
export class CallUncertainError extends Error { name = 'CallUncertainError'; }
export function callPlacer() {
  return async () => { throw new CallUncertainError('place-call is stubbed out in this build'); };
}`,
      }));
    },
  };
}

/** The operator bundle as deployed against the same bundle with place-call stubbed out: bytes and init (interleaved). */
async function coldStart(deployed: { file: string; bytes: number }, runs: number): Promise<CallBackBench['coldStart']> {
  const resolved = { count: 0 };
  const stubbed = await bundle('functions/operator.ts', 'operator-without-place-call', { plugins: [placeCallStub(resolved)] });
  if (resolved.count === 0) throw new Error('lib/twilio/place-call.ts was not imported by functions/operator.ts: nothing stubbed');
  // Interleaved, so that a noisy moment hits both builds alike.
  const withMs: number[] = [];
  const withoutMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Each build first every other time, so that an order effect hits both alike.
    if (i % 2 === 0) withMs.push(initMs(deployed.file));
    withoutMs.push(initMs(stubbed.file));
    if (i % 2 === 1) withMs.push(initMs(deployed.file));
  }
  return {
    runs,
    withPlaceCall: { bytes: deployed.bytes, initMedianMs: Number(median(withMs).toFixed(1)) },
    withoutPlaceCall: { bytes: stubbed.bytes, initMedianMs: Number(median(withoutMs).toFixed(1)) },
    bytesDelta: deployed.bytes - stubbed.bytes,
    initRatio: Number((median(withMs) / median(withoutMs)).toFixed(3)),
  };
}

const context = (functionName: string) => ({ awsRequestId: 'bench', functionName }) as unknown as Context;

/** A REST API (v1) proxy event as API Gateway delivers it (the stage in its request context). */
/** A machine's operator key, as API Gateway hands it on after checking it (lib/auth/caller.ts). */
const MACHINE_KEY = 'bench-machine-api-key';

function apiEvent(options: {
  resource: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  query?: URLSearchParams;
  pathParameters?: Record<string, string>;
  body: string | null;
}): APIGatewayProxyEvent {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of options.query ?? []) multi[name] = [...(multi[name] ?? []), value];
  const single = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values.at(-1) ?? '']));
  const some = Object.keys(multi).length > 0;
  return {
    resource: options.resource,
    path: options.path,
    httpMethod: options.method,
    headers: options.headers,
    multiValueHeaders: {},
    queryStringParameters: some ? single : null,
    multiValueQueryStringParameters: some ? multi : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body,
    isBase64Encoded: false,
    requestContext: { path: options.path, stage: 'prod' } as APIGatewayProxyEvent['requestContext'],
  };
}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
};

/** An HTTP server that hands each request to `handler` as an API Gateway event of its path (the webhook's routes). */
async function webhookServer(handler: Handler, gate: () => Promise<void>): Promise<{ baseUrl: string; server: Server }> {
  const server = createServer((req, res) => {
    (async () => {
      const body = await readBody(req);
      // The agent answers only once the operator has answered (a real phone rings for seconds).
      await gate();
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
      const reply = await handler(
        apiEvent({ resource: url.pathname, path: url.pathname, method: req.method ?? 'GET', headers, query: url.searchParams, body }),
        context('webhook'),
      );
      res.writeHead(reply.statusCode, reply.headers as Record<string, string> | undefined);
      res.end(reply.body);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const sub = (a: MeterReading, b: MeterReading): MeterReading => ({
  requests: Object.fromEntries(
    Object.entries(a.requests)
      .map(([op, n]) => [op, n - (b.requests[op] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  ),
  readUnits: a.readUnits - b.readUnits,
  writeUnits: a.writeUnits - b.writeUnits,
  errors: a.errors - b.errors,
});
const add = (a: MeterReading, b: MeterReading): MeterReading => ({
  requests: Object.fromEntries(
    [...new Set([...Object.keys(a.requests), ...Object.keys(b.requests)])].map((op) => [op, (a.requests[op] ?? 0) + (b.requests[op] ?? 0)]),
  ),
  readUnits: a.readUnits + b.readUnits,
  writeUnits: a.writeUnits + b.writeUnits,
  errors: a.errors + b.errors,
});
const ZERO: MeterReading = { requests: {}, readUnits: 0, writeUnits: 0, errors: 0 };
const perAttempt = (reading: MeterReading, n: number): AttemptCost => ({
  requests: Object.fromEntries(Object.entries(reading.requests).map(([op, k]) => [op, Number((k / n).toFixed(3))])),
  readUnits: Number((reading.readUnits / n).toFixed(3)),
  writeUnits: Number((reading.writeUnits / n).toFixed(3)),
  conditionFailures: Number((reading.errors / n).toFixed(3)),
});

/** The outcomes played: how the agent and the customer answer (the local Twilio API's scripts). */
const SCRIPTS: { outcome: AttemptOutcome; agent: CallAnswer; customer: CallAnswer; customerSeconds: number }[] = [
  { outcome: 'reached', agent: 'human', customer: 'human', customerSeconds: 45 },
  { outcome: 'voicemail', agent: 'human', customer: 'machine_start', customerSeconds: 20 },
  { outcome: 'agent-missed', agent: 'no-answer', customer: 'human', customerSeconds: 45 },
  { outcome: 'no-answer', agent: 'human', customer: 'no-answer', customerSeconds: 0 },
];

export async function callBackBench(fresh: Fresh, options: { initRuns: number; attemptsPerOutcome: number }): Promise<CallBackBench> {
  const operatorBuild = await bundle('functions/operator.ts', 'operator');
  const cold = await coldStart(operatorBuild, options.initRuns);
  const n = options.attemptsPerOutcome;
  const { file: webhookFile } = await bundle('functions/webhook.ts', 'webhook');

  const measured = await fresh(async (endpoint) => {
    await createTable(localClient(endpoint), TABLE);
    const docs = createDocumentClient(localClient(endpoint));
    const meter = await startMeter(endpoint);
    const api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [TOKEN] });
    const benchSettings = benchEnv();
    let released: Promise<void> = Promise.resolve();
    let webhookHandler: Handler | undefined;
    /** The webhook's DynamoDB requests by the kind of Twilio's request (Twilio sends a call's requests one at a time). */
    let byRequest = new Map<PlacedRequest['kind'], MeterReading>();
    const stack = await webhookServer(
      async (event, ctx) => {
        const kind: PlacedRequest['kind'] =
          event.resource === '/twilio/callback-call'
            ? 'url'
            : event.resource === '/twilio/dial-status'
              ? 'dial-action'
              : new URLSearchParams(event.body ?? '').has('ParentCallSid')
                ? 'child-status'
                : 'status';
        const before = meter.read();
        try {
          return await (webhookHandler as Handler)(event, ctx);
        } finally {
          byRequest.set(kind, add(byRequest.get(kind) ?? ZERO, sub(meter.read(), before)));
        }
      },
      () => released,
    );
    try {
      const env = {
        TABLE_NAME: TABLE,
        AWS_ENDPOINT_URL_DYNAMODB: meter.endpoint,
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_API_BASE_URL: api.baseUrl,
        PUBLIC_BASE_URL: stack.baseUrl,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      };
      benchSettings.set(env);
      const operator = loadHandler<Handler>(operatorBuild.file);
      webhookHandler = loadHandler<Handler>(webhookFile);

      // The open callbacks: one customer per attempt, each with one missed call an hour ago.
      const customers = SCRIPTS.map((_, o) =>
        Array.from({ length: n }, (_, i) => `+1650${String(5_550_000 + o * 1000 + i).padStart(7, '0')}`),
      );
      const ledger = createLedger(docs, { tableName: TABLE, retentionDays: 90, settings: readLedgerSettings({}) });
      const contacts = createContactsStore(docs, { tableName: TABLE });
      for (const phone of customers.flat()) {
        const report = classifyStatusCallback({
          AccountSid: ACCOUNT_SID,
          ApiVersion: '2010-04-01',
          CallSid: `CA${randomBytes(16).toString('hex')}`,
          CallStatus: 'no-answer',
          Direction: 'inbound',
          From: phone,
          To: LINE,
          Timestamp: new Date(Date.now() - 3_600_000).toUTCString(),
        });
        await ledger.record(report);
        const item = (await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: callKey(report.rootCallSid) }, ConsistentRead: true })))
          .Item;
        const work = item === undefined ? undefined : parsePendingCall(item);
        if (work === undefined) throw new Error(`the seeded miss of ${phone} opened no callback`);
        await contacts.apply(work);
      }

      const worklistPage = async (limit: number): Promise<{ items: { phone: string; attempts?: unknown }[]; reading: MeterReading }> => {
        meter.reset();
        const reply = await operator(
          apiEvent({
            resource: '/callbacks',
            path: '/prod/callbacks',
            method: 'GET',
            headers: { Host: 'bench.example', 'x-api-key': MACHINE_KEY },
            query: new URLSearchParams({ limit: String(limit) }),
            body: null,
          }),
          context('operator'),
        );
        if (reply.statusCode !== 200) throw new Error(`GET /callbacks answered ${reply.statusCode}: ${reply.body}`);
        return { items: (JSON.parse(reply.body) as { items: { phone: string; attempts?: unknown }[] }).items, reading: meter.read() };
      };
      // The page before any call back (the reached customers leave the list after theirs).
      const pageItems = n * (SCRIPTS.length - 1);
      const before = await worklistPage(pageItems);

      const outcomes: CallBackBench['outcomes'] = [];
      for (const [o, script] of SCRIPTS.entries()) {
        const agent = script.agent === 'human' ? AGENT : AWAY_AGENT;
        api.callOutcomes.set(agent, { answer: script.agent, seconds: 60 });
        let operatorTotal = ZERO;
        let webhookTotal = ZERO;
        byRequest = new Map();
        let rest = 0;
        const toUs: Partial<Record<PlacedRequest['kind'], number>> = {};
        const wall: number[] = [];
        for (const customer of customers[o] ?? []) {
          api.callOutcomes.set(customer, { answer: script.customer, seconds: script.customerSeconds });
          let release = () => {};
          released = new Promise<void>((resolve) => {
            release = resolve;
          });
          const restBefore = api.requests.filter((r) => !r.url.startsWith('/__local/')).length;
          const placedBefore = api.placed.length;
          meter.reset();
          const t = performance.now();
          let reply: APIGatewayProxyResult;
          try {
            reply = await operator(
              apiEvent({
                resource: '/callbacks/{phone}/call',
                path: `/prod/callbacks/${encodeURIComponent(customer)}/call`,
                method: 'POST',
                headers: {
                  Host: 'bench.example',
                  'x-api-key': MACHINE_KEY,
                  'Content-Type': 'application/json',
                  'Idempotency-Key': `bench-${randomBytes(8).toString('hex')}`,
                },
                pathParameters: { phone: customer },
                body: JSON.stringify({ agent }),
              }),
              context('operator'),
            );
          } finally {
            release();
          }
          const afterPost = meter.read();
          if (reply.statusCode !== 202) throw new Error(`POST /callbacks/{phone}/call answered ${reply.statusCode}: ${reply.body}`);
          await api.settled();
          wall.push(performance.now() - t);
          const afterCallbacks = meter.read();
          operatorTotal = add(operatorTotal, afterPost);
          webhookTotal = add(webhookTotal, sub(afterCallbacks, afterPost));
          rest += api.requests.filter((r) => !r.url.startsWith('/__local/')).length - restBefore;
          for (const placed of api.placed.slice(placedBefore)) {
            if (placed.error !== undefined) throw new Error(`the placed call went wrong: ${placed.error}`);
            for (const request of placed.requests) {
              if (request.status < 200 || request.status >= 300)
                throw new Error(`${request.kind} answered ${request.status}: ${request.error}`);
              toUs[request.kind] = (toUs[request.kind] ?? 0) + 1;
            }
          }
          const calling = (await docs.send(new GetCommand({ TableName: TABLE, Key: { pk: callingKey(customer) }, ConsistentRead: true })))
            .Item;
          const got = calling === undefined ? undefined : parseCalling(calling).attempts.at(-1)?.outcome;
          if (got !== script.outcome) throw new Error(`a call back scripted ${script.outcome} ended ${got ?? 'without an outcome'}`);
        }
        const twilioToUs = Object.fromEntries(Object.entries(toUs).map(([kind, k]) => [kind, Number((k / n).toFixed(3))]));
        const restPer = Number((rest / n).toFixed(3));
        outcomes.push({
          outcome: script.outcome,
          script: { agent: script.agent, customer: script.customer },
          dynamo: perAttempt(add(operatorTotal, webhookTotal), n),
          operator: perAttempt(operatorTotal, n),
          webhook: perAttempt(webhookTotal, n),
          webhookByRequest: Object.fromEntries([...byRequest].map(([kind, reading]) => [kind, perAttempt(reading, n)])),
          twilio: {
            rest: restPer,
            toUs: twilioToUs,
            total: Number((restPer + Object.values(twilioToUs).reduce((a, b) => a + b, 0)).toFixed(3)),
          },
          wallMsMedian: Number(median(wall).toFixed(1)),
        });
      }

      // The page again: every open callback on it has now been called back (voicemail, agent-missed, no-answer).
      const after = await worklistPage(pageItems);
      if (before.items.length !== pageItems || before.items.some((i) => i.attempts !== undefined))
        throw new Error(`the first page should hold ${pageItems} callbacks never called back`);
      if (after.items.length !== pageItems || after.items.some((i) => i.attempts === undefined))
        throw new Error(`the second page should hold ${pageItems} called-back callbacks`);
      // What each page read before issue 29: its text-back keys alone, in one BatchGetItem.
      const textBackOnly = createDocumentClient(localClient(meter.endpoint));
      const textBackRead = async (phones: readonly string[]): Promise<MeterReading> => {
        meter.reset();
        await textBackOnly.send(
          new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: phones.map((phone) => ({ pk: textBackKey(phone) })) } } }),
        );
        return meter.read();
      };
      const textBackBefore = await textBackRead(before.items.map((i) => i.phone));
      const textBackAfter = await textBackRead(after.items.map((i) => i.phone));
      const per = (x: number) => Number((x / pageItems).toFixed(3));
      const batchUnits = (r: MeterReading) => r.unitsByOp?.BatchGetItem ?? 0;
      const page = (r: MeterReading): WorklistPage => ({
        requests: r.requests,
        readUnits: r.readUnits,
        batchGetReadUnits: batchUnits(r),
        batchGetKeysPerItem: per(r.batchGetKeys ?? 0),
        readUnitsPerItem: per(r.readUnits),
      });
      return {
        outcomes,
        worklist: {
          pageItems,
          withoutAttempts: page(before.reading),
          withAttempts: page(after.reading),
          textBackKeysOnly: { readUnits: batchUnits(textBackAfter), keysPerItem: per(textBackAfter.batchGetKeys ?? 0) },
          callingReadUnitsPerItem: {
            withoutAttempts: per(batchUnits(before.reading) - batchUnits(textBackBefore)),
            withAttempts: per(batchUnits(after.reading) - batchUnits(textBackAfter)),
          },
        },
      };
    } finally {
      benchSettings.restore();
      await new Promise<void>((resolve) => stack.server.close(() => resolve()));
      await api.stop();
      await meter.stop();
    }
  });
  return { coldStart: cold, attemptsPerOutcome: n, ...measured };
}
