/**
 * DynamoDB outage mid-burst: a proxy in front of DynamoDB Local stalls, then resets, every
 * connection. Webhooks during the outage get a 5xx (the SDK's timeouts and retries end them),
 * never a 2xx for an unrecorded call; after recovery, Twilio's re-delivery leaves the ledger
 * equal to what was sent, each call once.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../lib/dev/fault-proxy.js';
import { callKey } from '../../lib/ledger.js';
import { freshTable, scanAll, statusCallback } from '../helpers.js';
import {
  coldStartWebhook,
  FULL,
  finishScenario,
  lambdaContext,
  redeliverFailures,
  report,
  signedEvent,
  type WebhookHandler,
} from './scale.js';

const context = lambdaContext('outage');
const PER_PHASE = FULL ? 100 : 10;

let table: Awaited<ReturnType<typeof freshTable>>;
let proxy: FaultProxy;
let handler: WebhookHandler;

beforeAll(async () => {
  table = await freshTable();
  const target = new URL(inject('dynamoEndpoint'));
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  handler = await coldStartWebhook(table.tableName, { AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await finishScenario('2 DynamoDB outage');
  await proxy.stop();
  await table.drop();
});

describe('DynamoDB outage', () => {
  it('answers 5xx while DynamoDB is unreachable, never 2xx for an unrecorded call, and loses nothing after re-delivery', async () => {
    const before = Array.from({ length: PER_PHASE }, () => statusCallback());
    const during = Array.from({ length: PER_PHASE * 2 }, () => statusCallback());

    const ok = await Promise.all(before.map((p) => handler(signedEvent(p), context)));
    proxy.setMode('stall');
    const stalledStarted = performance.now();
    const stalled = await Promise.all(during.slice(0, PER_PHASE).map((p) => handler(signedEvent(p), context)));
    const stalledSeconds = (performance.now() - stalledStarted) / 1000;
    proxy.setMode('reset');
    const reset = await Promise.all(during.slice(PER_PHASE).map((p) => handler(signedEvent(p), context)));
    proxy.setMode('pass');
    // Twilio re-delivers what failed (connection overrides #rc=3&rp=all), and here everything once more.
    const all = [...before, ...during];
    const redelivered = await Promise.all(all.map((p) => handler(signedEvent(p), context)));
    // Under load a re-delivery can itself get a 503; Twilio tries again, and so does this.
    report.deliveries += await redeliverFailures(redelivered, (i) => handler(signedEvent(all[i] ?? statusCallback()), context));
    report.deliveries += before.length * 2 + during.length * 2;
    report.duplicates += before.length;
    report.faultsInjected += during.length;

    const stored = new Set((await scanAll(table.docs, table.tableName)).filter((i) => i.type === 'call').map((i) => String(i.pk)));
    const duringOutage = [...stalled, ...reset];
    report.acknowledgedUnrecorded += during.filter(
      (p, i) => (duringOutage[i]?.statusCode ?? 500) < 300 && !stored.has(callKey(p.CallSid)),
    ).length;
    report.recordsLost += [...before, ...during].filter((p) => !stored.has(callKey(p.CallSid))).length;
    const stats = (await scanAll(table.docs, table.tableName))
      .filter((i) => i.type === 'stats')
      .reduce((sum, i) => sum + Number(i.total ?? 0), 0);
    report.doubleCounts += Math.max(0, stats - before.length - during.length);
    console.log(
      `[reliability] outage: ${PER_PHASE} webhooks against a stalled DynamoDB all answered within ${stalledSeconds.toFixed(1)} s`,
    );

    expect(ok.map((r) => r.statusCode)).toEqual(before.map(() => 204));
    expect(duringOutage.map((r) => r.statusCode)).toEqual(during.map(() => 503));
    expect(redelivered.map((r) => r.statusCode)).toEqual([...before, ...during].map(() => 204));
    expect(stored.size).toBe(before.length + during.length);
    expect(stats).toBe(before.length + during.length);
  }, 120_000);
});
