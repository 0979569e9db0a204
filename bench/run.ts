/**
 * `npm run bench` (`-- --quick` for the small CI run): cold start, ingestion, reconciliation,
 * stats, a call back through Twilio and people's tokens verified in the function or by an
 * authorizer, each against a baseline measured in the same run; prints a table and writes
 * bench/results/latest.json. docs/BENCHMARKS.md explains the figures.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal } from '../dev/dynamodb-local.js';
import { MISSED_REASONS } from '../lib/ledger/outcome.js';
import { logger } from '../lib/platform/log.js';
import { authorizerBench } from './authorizer.js';
import { root } from './build.js';
import { callBackBench } from './call-back.js';
import { coldStart } from './cold-start.js';
import { dashboardBench } from './dashboard.js';
import { hotKeyBench } from './hot-key.js';
import { httpBench } from './http.js';
import { type Fresh, ingest } from './ingest.js';
import { pipelineBench } from './pipeline.js';
import { reconcileBench } from './reconcile.js';
import { statsBench } from './stats.js';

const quick = process.argv.includes('--quick');
const size = quick
  ? {
      httpSeconds: 5,
      initRuns: 3,
      ingestCalls: 300,
      reconcileCalls: 5_000,
      statsCalls: 3_000,
      statsRepeats: 3,
      burstCalls: 1_000,
      backlogCalls: 2_000,
      pipelineMisses: 10,
      callBackInitRuns: 3,
      callBackAttempts: 2,
      authorizer: { initRuns: 3, people: 3, rounds: 15, firstVerifications: 5 },
    }
  : // Each benchmark fits in about two minutes on 2 cores (docs/BENCHMARKS.md).
    {
      httpSeconds: 30,
      initRuns: 10,
      ingestCalls: 5_000,
      reconcileCalls: 100_000,
      statsCalls: 100_000,
      statsRepeats: 5,
      burstCalls: 10_000,
      backlogCalls: 100_000,
      pipelineMisses: 40,
      callBackInitRuns: 20,
      callBackAttempts: 10,
      authorizer: { initRuns: 20, people: 10, rounds: 100, firstVerifications: 20 },
    };

// List prices (us-east-1) used by the cost model; docs/BENCHMARKS.md says where they come from.
const PRICE = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  apiGatewayRestRequest: 3.5 / 1e6,
  dynamoWru: 0.625 / 1e6,
  dynamoRru: 0.125 / 1e6,
};

const version = (pkg: string): string => {
  const json: unknown = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8'));
  return typeof json === 'object' && json !== null && 'version' in json ? String(json.version) : '?';
};

const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T & { benchSeconds: number }> => {
  process.stderr.write(`bench: ${label}…\n`);
  const t = performance.now();
  const result = await fn();
  return { ...result, benchSeconds: Number(((performance.now() - t) / 1000).toFixed(1)) };
};

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  // Node 20 here, nodejs22.x in Lambda: the SDK's notice about 2027 releases is known.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
// The runs' own log lines (lib/platform/log.ts read its level before this file's settings).
logger.setLogLevel('SILENT');
// A fresh DynamoDB Local per benchmark: the emulator slows down as its in-memory data grows.
const withDynamo: Fresh = async <T>(fn: (endpoint: string) => Promise<T>): Promise<T> => {
  const dynamo = await startDynamoDbLocal();
  try {
    return await fn(dynamo.endpoint);
  } finally {
    await dynamo.stop();
  }
};
let results: Record<string, unknown>;
{
  const cold = await timed('cold start', () => coldStart(size.initRuns));
  const dash = await timed('dashboard assets', dashboardBench);
  const ing = await timed('ingestion', () => ingest(withDynamo, size.ingestCalls, 16));
  const http = await timed('ingestion over HTTP', () => httpBench(size.httpSeconds, 16));
  const rec = await timed('reconciliation', () => reconcileBench(withDynamo, size.reconcileCalls));
  const st = await timed('stats', () => withDynamo((endpoint) => statsBench(endpoint, size.statsCalls, size.statsRepeats)));
  const hot = await timed('day counters under a burst', () => hotKeyBench(withDynamo, size.burstCalls));
  const pipe = await timed('miss to event and text', () => pipelineBench(size.pipelineMisses));
  const callBack = await timed('call back through Twilio', () =>
    callBackBench(withDynamo, { initRuns: size.callBackInitRuns, attemptsPerOutcome: size.callBackAttempts }),
  );
  const authorizer = await timed('people’s tokens: in the function or an authorizer', () => authorizerBench(withDynamo, size.authorizer));

  // Cost per million missed calls, from the measured counts (one delivery each; see the doc).
  const webhookGbS = 0.25 * (ing.handler.p50Ms / 1000);
  const perCall = {
    apiGateway: PRICE.apiGatewayRestRequest,
    webhookLambda: PRICE.lambdaRequest + webhookGbS * PRICE.lambdaGbSecondArm,
    // A miss its one callback reports (section 2a): the evidence's UpdateItem (1 WRU), then the
    // decision's TransactWriteItems of 2 items under 1 KB (2 WRU each). A <Dial> call reported by
    // its leg, its Dial action and its root writes 17 (docs/BENCHMARKS.md).
    webhookDynamo: 5 * PRICE.dynamoWru,
    // Contacts: a strongly consistent GetItem (1 RRU) and a transaction of 2-3 items (4-6 WRU);
    // batches of 25 make the Lambda request cost per call small.
    contacts: 1 * PRICE.dynamoRru + 6 * PRICE.dynamoWru + PRICE.lambdaRequest / 25 + 0.25 * 0.05 * PRICE.lambdaGbSecondArm,
  };
  const perMillion = Object.fromEntries(Object.entries(perCall).map(([k, v]) => [k, Number((v * 1e6).toFixed(2))]));
  const totalPerMillion = Number(Object.values(perCall).reduce((a, b) => a + b, 0) * 1e6).toFixed(2);

  results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    versions: {
      twilio: version('twilio'),
      '@aws-sdk/client-dynamodb': version('@aws-sdk/client-dynamodb'),
      osls: version('osls'),
      esbuild: version('esbuild'),
      'amplify-dynamodb-simulator': version('amplify-dynamodb-simulator'),
    },
    coldStart: cold,
    dashboard: dash,
    ingestion: ing,
    ingestionHttp: http,
    reconciliation: rec,
    stats: st,
    hotKey: hot,
    pipeline: pipe,
    callBack,
    authorizer,
    cost: { pricesUsd: PRICE, perMillionMissedCallsUsd: { ...perMillion, total: Number(totalPerMillion) } },
  };
}

const r = results as {
  coldStart: Awaited<ReturnType<typeof coldStart>>;
  dashboard: Awaited<ReturnType<typeof dashboardBench>>;
  ingestion: Awaited<ReturnType<typeof ingest>>;
  ingestionHttp: Awaited<ReturnType<typeof httpBench>>;
  reconciliation: Awaited<ReturnType<typeof reconcileBench>>;
  stats: Awaited<ReturnType<typeof statsBench>>;
  hotKey: Awaited<ReturnType<typeof hotKeyBench>>;
  pipeline: Awaited<ReturnType<typeof pipelineBench>>;
  callBack: Awaited<ReturnType<typeof callBackBench>>;
  authorizer: Awaited<ReturnType<typeof authorizerBench>>;
  cost: { perMillionMissedCallsUsd: Record<string, number> };
};
const line = (cells: (string | number)[]) =>
  console.log(cells.map((c, i) => (i === 0 ? String(c).padEnd(44) : String(c).padStart(14))).join(''));
console.log(
  `\nBenchmarks (${quick ? 'quick' : 'full'}; DynamoDB Local on this machine: absolute times are informational, ratios are the figures)\n`,
);
line(['cold start', 'bundle bytes', 'init ms (med)', 'SDK bundled', 'its init ms', 'ratio']);
for (const f of r.coldStart.functions)
  line([
    `  ${f.name}`,
    f.bytes,
    f.initMedianMs.toFixed(1),
    f.sdkBundled.bytes,
    f.sdkBundled.initMedianMs.toFixed(1),
    f.sdkBundled.ratio.toFixed(2),
  ]);
line([`  baseline: ${r.coldStart.baseline.name}`, r.coldStart.baseline.bytes, r.coldStart.baseline.initMedianMs.toFixed(1)]);
line(['  webhook init / baseline', '', r.coldStart.webhookInitRatio.toFixed(2)]);
const floor = r.coldStart.floor;
line([`  floor: ${floor.name}`, floor.bytes, floor.initMedianMs.toFixed(1)]);
for (const [name, ratio] of Object.entries(floor.ratios)) line([`  ${name} init / floor (target <= 1.10)`, '', ratio.toFixed(2)]);
console.log('');
const d = r.dashboard;
line([`dashboard assets (built in ${d.buildMs} ms)`, 'bytes', 'gzipped']);
for (const asset of d.assets) line([`  ${asset.name}`, asset.bytes, asset.gzipBytes]);
line(['  total', d.totalBytes, d.totalGzipBytes]);
line(['  budget (gzipped) / share used', d.budgetGzipBytes, `${((d.totalGzipBytes / d.budgetGzipBytes) * 100).toFixed(0)} %`]);
console.log('');
line([`ingestion, ${r.ingestion.handler.calls} calls, concurrency ${r.ingestion.concurrency}`, 'calls/s', 'p50 / p99 ms']);
line(['  bundled webhook handler', r.ingestion.handler.perSecond, `${r.ingestion.handler.p50Ms} / ${r.ingestion.handler.p99Ms}`]);
line([
  '  baseline: bare TransactWriteItems',
  r.ingestion.baseline.perSecond,
  `${r.ingestion.baseline.p50Ms} / ${r.ingestion.baseline.p99Ms}`,
]);
line(['  handler / baseline', '', r.ingestion.ratio.toFixed(2)]);
line([
  `  every call 3 times (${r.ingestion.duplicates.deliveries} deliveries)`,
  r.ingestion.duplicates.perSecond,
  `${r.ingestion.duplicates.p50Ms} / ${r.ingestion.duplicates.p99Ms}`,
]);
line(['  call items after the duplicates', '', r.ingestion.duplicates.items]);
line(['  peak RSS MiB (handler run)', '', r.ingestion.handler.peakRssMiB]);

const a = r.ingestion.answered;
const ops = (p: { requests: Record<string, number> }) =>
  Object.entries(p.requests)
    .map(([op, n]) => `${n} ${op}`)
    .join(' + ') || '0';
line([`answered calls through the same handler, concurrency ${r.ingestion.concurrency}`, 'calls/s', 'p50 / p99 ms']);
line([`  ${a.noCallback.calls} with no open callback`, a.noCallback.perSecond, `${a.noCallback.p50Ms} / ${a.noCallback.p99Ms}`]);
line(['    DynamoDB per answered call', '', ops(a.noCallback.perCall)]);
line(['    read / write units per answered call', '', `${a.noCallback.perCall.readUnits} / ${a.noCallback.perCall.writeUnits}`]);
line(['  answered (no callback) / missed calls/s', '', a.ratioToMissed.toFixed(2)]);
line(['    DynamoDB per missed call (same meter)', '', ops(a.missedPerCall)]);
line(['    read / write units per missed call', '', `${a.missedPerCall.readUnits} / ${a.missedPerCall.writeUnits}`]);
line([`  ${a.resolving.calls} resolving an open callback`, a.resolving.perSecond, `${a.resolving.p50Ms} / ${a.resolving.p99Ms}`]);
line(['    resolutions stored', '', a.resolving.resolved]);
line(['    DynamoDB per resolving call', '', ops(a.resolving.perCall)]);
line(['    read / write units per resolving call', '', `${a.resolving.perCall.readUnits} / ${a.resolving.perCall.writeUnits}`]);
console.log('');
line(['each callback kind through the webhook (issue 27)', 'DynamoDB requests', 'read / write units']);
for (const k of r.ingestion.byKind) line([`  ${k.kind}`, ops(k.perCallback), `${k.perCallback.readUnits} / ${k.perCallback.writeUnits}`]);
for (const f of r.ingestion.perCallFlow)
  line([`  a whole ${f.flow} call`, ops(f.perCall), `${f.perCall.readUnits} / ${f.perCall.writeUnits}`]);
console.log('');
const h = r.ingestionHttp;
line([`ingestion over HTTP (serverless-offline), ${h.seconds} s`, 'requests/s', 'p50 / p99 ms']);
line([`  ${h.requests} signed webhooks, concurrency ${h.concurrency}`, h.perSecond, `${h.p50Ms} / ${h.p99Ms}`]);
line(['  errors', '', h.errors]);
line(['  call items stored = 204s answered', '', h.callItems]);
console.log('');
const rc = r.reconciliation;
const pct = (share: number) => `${Math.round(share * 100)}%`;
const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
const sum = (counts: Partial<Record<string, number>>) => Object.values(counts).reduce<number>((x, y) => x + (y ?? 0), 0);
const rb = rc.before;
line([`reconciliation, ${rc.calls} calls (${rc.roots} roots), ${pct(rc.lostShare)} lost`, 'after', 'before']);
line(['  calls listed', rc.after.listed, rb.listed]);
line(['  Twilio requests', rc.after.twilioRequests, rb.total]);
line(['  Twilio requests per 100,000 listed calls', rc.per100k.after, rc.per100k.before]);
line([
  '    list pages / parent fetches / reached checks',
  `${rc.after.pages} / ${rc.after.parentsFetched} / 0`,
  `${rb.listRequests} / ${rb.parentFetches} / ${rb.reachedRequests}`,
]);
line([`  Σ over 5 statuses ceil(calls/${rc.formula.pageSize}) + ${rc.formula.constant}`, rc.formula.expected, '']);
line(['  Twilio requests = formula', yes(rc.goals.twilioRequestsAsFormula), '']);
line(['  requests not a status list page (per call)', rc.after.perCallRequests, rb.parentFetches + rb.reachedRequests]);
line(['  DynamoDB requests / write requests', `${rc.after.dynamoRequests} / ${rc.after.writeRequests}`, '-']);
line(['  call items written of calls not lost', rc.after.recordedCallsWritten, '-']);
const rv = rc.recovery;
line([`  ${rv.lost} lost: misses recovered / truth`, `${rc.after.recoveredTotal} / ${sum(rv.truthByReason)}`, `${rb.misses} old rule`]);
for (const reason of MISSED_REASONS.filter((m) => rv.truthByReason[m] !== undefined || rv.recoveredByReason[m] !== undefined))
  line([`    ${reason}`, `${rv.recoveredByReason[reason] ?? 0} / ${rv.truthByReason[reason] ?? 0}`, '']);
line(['  lost calls decided other than the truth', rv.wrong, '']);
for (const [kind, n] of Object.entries(rv.wrongByKind)) line([`    ${kind}`, n ?? 0, '']);
line(['  misses with `reached` as the window says', `${rv.reached.exact} / ${rv.reached.checked}`, `${rb.reachedChecks} asked`]);
line(['  wall ms', rc.after.wallMs, '']);
const cont = rc.continued;
const cv = cont.recovery;
line([`  async run, ${pct(cont.lostShare)} lost, <= ${cont.invocationLimitMs} ms an invocation`, 'invocations', 'wall ms']);
line([`    ${cont.state}: ${cont.summary.pages} pages, ${cont.summary.listed} listed`, cont.invocations, cont.wallMs]);
line(['    Twilio requests', cont.summary.twilioRequests, '']);
line([`    ${cv.lost} lost: misses recovered / truth`, `${cont.summary.recoveredTotal} / ${sum(cv.truthByReason)}`, '']);
line(['    lost calls decided other than the truth', cv.wrong, '']);
for (const [kind, n] of Object.entries(cv.wrongByKind)) line([`      ${kind}`, n ?? 0, '']);
line(['    misses with `reached` as the window says', `${cv.reached.exact} / ${cv.reached.checked}`, '']);
line(['    adds up to the one-go counts and the truth', '', yes(cont.addsUp)]);
console.log('');
line([`stats, ${r.stats.calls} calls recorded`, 'requests', 'median ms']);
for (const range of r.stats.ranges) {
  line([`  ${range.days} days: day counters`, range.ours.requests, range.ours.medianMs]);
  line([`  ${range.days} days: baseline scan of call items`, range.baseline.requests, range.baseline.medianMs]);
  line([`  ${range.days} days: baseline / ours latency`, '', range.latencyRatio]);
}
console.log('');
const hk = r.hotKey;
line([`day counters: ${hk.calls} missed calls in ${hk.eventSeconds} s`, 'writes', 'WCU/s']);
line([`  before: one day item (${hk.before.bytes} B)`, hk.before.writes, hk.before.wcuPerSecond]);
line([`  after: hottest of ${hk.shardsWritten} shards (${hk.after.bytes} B)`, hk.after.writes, hk.after.wcuPerSecond]);
line([`  after <= ${hk.targetWcuPerSecond} WCU/s (one partition)`, '', hk.after.wcuPerSecond <= hk.targetWcuPerSecond ? 'yes' : 'NO']);
line(['  before / after', '', (hk.before.wcuPerSecond / Math.max(1, hk.after.wcuPerSecond)).toFixed(1)]);
line(['  hottest call or contact item', hk.hottestOtherKey.writes, '']);
line(['  GET /stats total, contacts created', '', `${hk.exact.total}, ${hk.exact.contactsCreated}`]);
line(['  expected (exact)', '', hk.exact.expected]);
for (const read of hk.statsReads) line([`  GET /stats ${read.days} d (folded): requests`, '', read.requests]);
line(['  burst wall s (DynamoDB Local)', '', hk.wallSeconds]);
console.log('');
const pl = r.pipeline;
line([`a decided miss to its event and text (${pl.misses} misses)`, 'p50 / p95 ms', 'max ms']);
line(['  to `Callback opened` on the bus', `${pl.toEvent.p50} / ${pl.toEvent.p95}`, pl.toEvent.max]);
line(['  to the text-back (Twilio took it)', `${pl.toText.p50} / ${pl.toText.p95}`, pl.toText.max]);
line(['  never came (events, texts)', '', `${pl.lost.events}, ${pl.lost.texts}`]);
for (const [fn, n] of Object.entries(pl.invocationsPerMiss)) line([`  ${fn} invocations per miss`, '', n]);
line(['  events, texts per miss', '', `${pl.eventsPerMiss}, ${pl.textsPerMiss}`]);
const rt = pl.recordingTtfb;
line([`a voicemail's MP3 (${rt.bytes} bytes): first byte`, 'median ms', '']);
line(['  the local Twilio API directly', rt.directMs, '']);
line(['  through GET /recordings/{sid} (npm start)', rt.stackMs, '']);
line(['  stack / direct', '', rt.ratio]);
const rd = pl.recordingDeletion;
line([`a forgotten voicemail call to its recording deleted at Twilio (${rd.calls} calls)`, 'p50 / p95 ms', 'max ms']);
line(['  item removed (TTL) → DELETE at the local Twilio API', `${rd.toDeleted.p50} / ${rd.toDeleted.p95}`, rd.toDeleted.max]);
line(['  recordings left at Twilio', '', rd.left]);
for (const [fn, n] of Object.entries(rd.invocationsPerCall)) line([`  ${fn} invocations per call`, '', n]);
line(['  events per call', '', rd.eventsPerCall]);
console.log('');
const cb = r.callBack;
const cc = cb.coldStart;
line([`call back (issue 29): operator cold start, ${cc.runs} runs`, 'bundle bytes', 'init ms (med)']);
line(['  as deployed (with place-call)', cc.withPlaceCall.bytes, cc.withPlaceCall.initMedianMs.toFixed(1)]);
line(['  place-call stubbed out', cc.withoutPlaceCall.bytes, cc.withoutPlaceCall.initMedianMs.toFixed(1)]);
line(['  with / without: bytes delta, init ratio', cc.bytesDelta, cc.initRatio.toFixed(2)]);
const units = (c: { readUnits: number; writeUnits: number }) => `${c.readUnits} / ${c.writeUnits}`;
line([`one call back, per outcome (${cb.attemptsPerOutcome} attempts each)`, 'read / write', 'Twilio reqs', '  DynamoDB requests']);
for (const o of cb.outcomes) {
  const toUs = Object.entries(o.twilio.toUs)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(' + ');
  const who = o.script.agent === 'human' ? `customer ${o.script.customer}` : `agent ${o.script.agent}`;
  line([`  ${o.outcome} (${who})`, units(o.dynamo), o.twilio.total, `  ${ops(o.dynamo)}`]);
  line(['    POST /callbacks/{phone}/call', units(o.operator), o.twilio.rest, `  ${ops(o.operator)}`]);
  line([
    '    its callbacks through the webhook',
    units(o.webhook),
    Number((o.twilio.total - o.twilio.rest).toFixed(3)),
    `  ${ops(o.webhook)}`,
  ]);
  line(['    Twilio: the create, then to our URLs', '', '', `  ${o.twilio.rest} create; ${toUs || 'none'}`]);
  for (const [kind, c] of Object.entries(o.webhookByRequest)) line([`      its ${kind} request`, units(c), '', `  ${ops(c)}`]);
  const refused = o.dynamo.conditionFailures;
  if (refused > 0) line(['    DynamoDB requests refused (a condition)', '', '', `  ${refused}`]);
}
const wl = cb.worklist;
line([`GET /callbacks, a page of ${wl.pageItems} open callbacks`, 'read units', 'BatchGet RU', '  DynamoDB requests']);
line(['  none called back', wl.withoutAttempts.readUnits, wl.withoutAttempts.batchGetReadUnits, `  ${ops(wl.withoutAttempts)}`]);
line(['  all called back', wl.withAttempts.readUnits, wl.withAttempts.batchGetReadUnits, `  ${ops(wl.withAttempts)}`]);
line(['  text-back keys alone (before issue 29)', '', wl.textBackKeysOnly.readUnits, '  1 BatchGetItem']);
line(['  BatchGet keys per item (before)', '', `${wl.withAttempts.batchGetKeysPerItem} (${wl.textBackKeysOnly.keysPerItem})`]);
line(['  calling items: read units per item', 'none called', wl.callingReadUnitsPerItem.withoutAttempts]);
line(['', 'all called', wl.callingReadUnitsPerItem.withAttempts]);
console.log('');
const az = r.authorizer;
const azc = az.coldStart;
line([`people's tokens (issue 30): cold start, ${azc.runs} interleaved runs`, 'bundle bytes', 'init ms (med)']);
line(['  operator as built (verifies in the function)', azc.operator.bytes, azc.operator.initMedianMs.toFixed(1)]);
line(['  operator without the verifier (stubbed)', azc.operatorWithoutVerifier.bytes, azc.operatorWithoutVerifier.initMedianMs.toFixed(1)]);
line(['  the verifier alone (aws-jwt-verify, created)', azc.verifierAlone.bytes, azc.verifierAlone.initMedianMs.toFixed(1)]);
line(['  authorizer (verifier + standing read)', azc.authorizer.bytes, azc.authorizer.initMedianMs.toFixed(1)]);
line(['  a cold request: in the function', '', azc.inFunctionMs.toFixed(1)]);
line(['  a cold request: authorizer + operator (miss)', '', azc.authorizerDesignMs.toFixed(1)]);
line(['  authorizer design / in the function', '', azc.ratio.toFixed(2)]);
const av = az.verification;
line([`verifying a token (${av.tokens} tokens of ${av.people} people, local Cognito)`, 'p50', 'p95 / max']);
line([`  first, a fresh verifier (JWKS fetched), ${av.first.samples}x`, `${av.first.medianMs} ms`, `max ${av.first.maxMs} ms`]);
line([`  warm (${av.warm.samples} verifications)`, `${av.warm.p50Us} µs`, `${av.warm.p95Us} µs`]);
line([`  standing GetItem PERSON#<sub> (${az.standing.samples})`, `${az.standing.getItem.p50Ms} ms`, `${az.standing.getItem.p95Ms} ms`]);
line([
  '    DynamoDB per read: with an item / without',
  '',
  `${ops(az.standing.perRead.withItem)} / ${ops(az.standing.perRead.withoutItem)}`,
]);
line([
  '    read units: with an item / without',
  '',
  `${az.standing.perRead.withItem.readUnits} / ${az.standing.perRead.withoutItem.readUnits}`,
]);
line(['  verify p50 / GetItem p50', '', az.ratios.verifyOverGetItem.toFixed(3)]);
const ap = az.perRequest;
line(['  in the function: identify (verify + GetItem)', `${ap.inFunction.p50Ms} ms`, `${ap.inFunction.p95Ms} ms`]);
line(['    its first check (JWKS, connection)', `${ap.inFunction.firstMs} ms`, '']);
line(['  authorizer invocation, warm (cache miss)', `${ap.authorizer.p50Ms} ms`, `${ap.authorizer.p95Ms} ms`]);
line(['    its first invocation (JWKS, connection)', `${ap.authorizer.firstMs} ms`, '']);
line(['  authorizer / in the function (p50)', '', az.ratios.authorizerOverInFunction.toFixed(2)]);
line(['  authorizer on a cache hit (API Gateway skips it)', '0', '']);
line(['  per person request: in the function', '', `${ops(ap.inFunction.dynamo)}, ${ap.inFunction.dynamo.readUnits} RU`]);
line([`  per token per ${az.requests.authorizer.ttlSeconds} s: authorizer`, '', `1 invoke + ${ops(ap.authorizer.dynamo)}`]);
line(['  a disabled person keeps access: in fn / authorizer', '', `0 s / <= ${az.requests.authorizer.staleSeconds} s`]);
line(['  not measured here', '', 'Lambda invoke overhead of the extra function (no AWS)']);
console.log('');
line(['cost per million missed calls (USD)', '', '']);
for (const [k, v] of Object.entries(r.cost.perMillionMissedCallsUsd)) line([`  ${k}`, '', v.toFixed(2)]);

mkdirSync(join(root, 'bench/results'), { recursive: true });
const out = join(root, 'bench/results', quick ? 'quick.json' : 'latest.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${out}`);
