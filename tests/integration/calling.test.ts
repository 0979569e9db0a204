/**
 * The calling item (`CALLING#<E.164>`) on DynamoDB Local: a claim keeps a second caller out until
 * it expires or its call has an outcome (or `force`); the same attempt id answers the same
 * attempt; Twilio's refusal takes the attempt back; two writers at once lose nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimedError, createCallingStore } from '../../lib/callbacks/calling.js';
import { readStats } from '../../lib/operator/stats.js';
import { freshTable } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
beforeAll(async () => {
  table = await freshTable();
});
afterAll(async () => {
  await table.drop();
});

const AGENT = '+14155550199';
const OTHER_AGENT = '+14155550198';
const T0 = new Date('2026-12-06T15:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('the calling item', () => {
  it('claims a customer for CLAIM_SECONDS: a second call is refused with who holds it, until it expires or with force', async () => {
    const store = createCallingStore(table.as('operator'), table.tableName);
    const phone = '+14155550701';
    const first = await store.start(phone, { id: 'a1', agent: AGENT }, { now: T0, claimSeconds: 120, force: false });
    expect(first).toMatchObject({ created: true, attempt: { id: 'a1', agent: AGENT, at: T0.toISOString() } });
    // The same attempt again (a double click): the same attempt, nothing written.
    expect(await store.start(phone, { id: 'a1', agent: AGENT }, { now: at(1), claimSeconds: 120, force: false })).toMatchObject({
      created: false,
      attempt: { id: 'a1' },
    });
    const refused = store.start(phone, { id: 'a2', agent: OTHER_AGENT }, { now: at(60), claimSeconds: 120, force: false });
    await expect(refused).rejects.toBeInstanceOf(ClaimedError);
    await expect(refused).rejects.toThrow(`Being called by +*******${AGENT.slice(-4)} until ${at(120).toISOString()}`);
    // Expired: anyone may call.
    expect((await store.start(phone, { id: 'a3', agent: OTHER_AGENT }, { now: at(121), claimSeconds: 120, force: false })).created).toBe(
      true,
    );
    // Taken over with force.
    expect((await store.start(phone, { id: 'a4', agent: AGENT }, { now: at(130), claimSeconds: 120, force: true })).created).toBe(true);
    const read = await store.read(phone);
    expect(read?.attempts.map((a) => a.id)).toEqual(['a1', 'a3', 'a4']);
    expect(read?.claim).toEqual({ attemptId: 'a4', agent: AGENT, until: at(250).toISOString() });
  });

  it('releases the claim when its call has an outcome, and takes back an attempt Twilio refused', async () => {
    const store = createCallingStore(table.as('operator'), table.tableName);
    const webhook = createCallingStore(table.as('webhook'), table.tableName);
    const phone = '+14155550702';
    await store.start(phone, { id: 'b1', agent: AGENT }, { now: T0, claimSeconds: 120, force: false });
    await store.placed(phone, 'b1', `CA${'1'.repeat(32)}`);
    // The agent answered; the customer's leg is still going: no outcome, the claim holds.
    expect(await webhook.record(phone, 'b1', {}, 10)).toMatchObject({ attempt: { id: 'b1' } });
    expect((await store.read(phone))?.claim?.attemptId).toBe('b1');
    const recorded = await webhook.record(phone, 'b1', { leg: { callSid: `CA${'2'.repeat(32)}`, status: 'no-answer', seconds: 0 } }, 10);
    expect(recorded).toMatchObject({ before: undefined, attempt: { outcome: 'no-answer', callSid: `CA${'1'.repeat(32)}` } });
    expect((await store.read(phone))?.claim).toBeUndefined();
    // A call Twilio refused: as if never started.
    await store.start(phone, { id: 'b2', agent: AGENT }, { now: at(10), claimSeconds: 120, force: false });
    await store.abandon(phone, 'b2');
    const read = await store.read(phone);
    expect(read?.attempts.map((a) => a.id)).toEqual(['b1']);
    expect(read?.claim).toBeUndefined();
    // An attempt it does not keep (erased): nothing.
    expect(await webhook.record(phone, 'gone', { agent: { status: 'completed', seconds: 3 } }, 10)).toBeUndefined();
  });

  it('loses no deciding callback when the agent’s end, the Dial action and the customer’s leg are recorded at the same time', async () => {
    const store = createCallingStore(table.as('webhook'), table.tableName);
    const phone = '+14155550703';
    await store.start(phone, { id: 'c1', agent: AGENT }, { now: T0, claimSeconds: 120, force: false });
    await Promise.all([
      store.record(phone, 'c1', { agent: { status: 'completed', seconds: 50 } }, 10),
      store.record(phone, 'c1', { leg: { callSid: 'CA3', status: 'completed', seconds: 45, answeredBy: 'human' } }, 10),
      store.record(phone, 'c1', { dial: { status: 'completed', seconds: 45 } }, 10),
    ]);
    const attempt = (await store.read(phone))?.attempts[0];
    expect(attempt?.outcome).toBe('reached');
    // The leg decides, whatever came first; what comes after a decision it cannot change is not written.
    expect(attempt?.facts.leg).toEqual({ callSid: 'CA3', status: 'completed', seconds: 45, answeredBy: 'human' });
  });

  it('counts each attempt once by its outcome on the day it was placed, and moves the count when a later callback changes it', async () => {
    const store = createCallingStore(table.as('webhook'), table.tableName);
    const phone = '+14155550704';
    const day = '2026-12-01';
    const placedAt = new Date(`${day}T23:59:00.000Z`);
    const attempts = async () => (await readStats(table.docs, table.tableName, { from: day, to: day, days: [day] })).callbacks.attempts;
    await store.start(phone, { id: 'd1', agent: AGENT }, { now: placedAt, claimSeconds: 120, force: false });
    // The Dial action first (its leg's callback late): a 40 s answer is `reached` …
    await store.record(phone, 'd1', { dial: { status: 'completed', seconds: 40 } }, 10);
    expect(await attempts()).toMatchObject({ reached: 1, voicemail: 0, total: 1 });
    // … until the leg says a machine answered: voicemail, the reached count taken back.
    await store.record(phone, 'd1', { leg: { callSid: 'CA4', status: 'completed', seconds: 40, answeredBy: 'machine_start' } }, 10);
    expect(await attempts()).toMatchObject({ reached: 0, voicemail: 1, total: 1 });
    // The same callbacks again (Twilio retried), and the agent's end: counted once.
    await store.record(phone, 'd1', { leg: { callSid: 'CA4', status: 'completed', seconds: 40, answeredBy: 'machine_start' } }, 10);
    await store.record(phone, 'd1', { agent: { status: 'completed', seconds: 50 } }, 10);
    expect(await attempts()).toMatchObject({ reached: 0, voicemail: 1, total: 1 });
    // The agent answered (progress only): no outcome, nothing counted.
    await store.start(phone, { id: 'd2', agent: AGENT }, { now: new Date(placedAt.getTime() + 1000), claimSeconds: 120, force: false });
    await store.record(phone, 'd2', { agentAnswered: new Date().toISOString() }, 10);
    expect(await attempts()).toMatchObject({ total: 1 });
  });
});
