/**
 * Operator API over the real HTTP path (`npm start`'s stack: serverless-offline's API Gateway
 * with its API key check, the operator Lambda, DynamoDB Local): no key, wrong keys, tampered
 * cursors and injection in every parameter are always a 4xx whose body is one message and
 * holds nothing of the ledger (no number, CallSid, key or internal name), never a 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithPassword } from '../../dev/cognito.js';
import { LOCAL_DEFAULTS } from '../../dev/defaults.js';
import { postLikeTwilio } from '../../dev/sign.js';
import { type LocalStack, startLocalStack } from '../../dev/stack.js';
import { encodeContactsCursor as encodeCursor } from '../../lib/operator/contacts.js';
import { statusCallback } from '../helpers.js';
import { FULL, finishScenario, report } from './scale.js';

const RUNS = FULL ? 300 : 40;
const SEEDED = 12;

let stack: LocalStack;
const phones = Array.from({ length: SEEDED }, (_, i) => `+1415555${String(7100 + i)}`);
const sids: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack();
  for (const from of phones) {
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, From: from });
    sids.push(params.CallSid);
    const response = await postLikeTwilio(`${stack.target}/twilio/call-status`, params, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
    if (response.status !== 204) throw new Error(`seeding webhook answered ${response.status}`);
  }
  // The stream makes the contacts; wait until all are listed.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const listed = await get('/contacts?limit=100');
    if (listed.status === 200 && phones.every((p) => listed.text.includes(p))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the seeded contacts never appeared');
}, 120_000);
afterAll(async () => {
  await finishScenario('7 operator API');
  await stack?.stop();
});

async function get(path: string, headers: Record<string, string> = { 'x-api-key': stack.key }, method = 'GET', body?: string) {
  const response = await fetch(`${stack.target}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, text: await response.text() };
}

/** What a refusal must never carry. */
const secrets = () => [...phones, ...phones.map((p) => p.slice(2)), ...sids, stack.key, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN];
const INTERNALS = ['CONTACT#', 'CALL#', 'STATS#', 'gsi1', 'Exception', 'node_modules', '    at ', 'missed-call-ledger-'];

/** One bad input: counted; a 5xx, a non-4xx when `expected` says so, or a leak is an error. */
async function refused(path: string, expected: readonly number[], headers?: Record<string, string>, method = 'GET', sent?: string) {
  report.badInputs += 1;
  const { status, text } = await get(path, headers, method, sent);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const oneMessage =
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).join() === 'message' &&
    typeof (body as { message: unknown }).message === 'string';
  const leaked = [...secrets(), ...INTERNALS].filter((s) => text.includes(s));
  if (status >= 500) report.serverErrorsForBadInput += 1;
  else if (!expected.includes(status)) report.badInputAccepted += 1;
  if (!oneMessage || leaked.length > 0) report.dataLeaked += 1;
  return { status, text, oneMessage, leaked };
}

const ROUTES: [string, string][] = [
  ['GET', '/stats'],
  ['GET', '/health'],
  ['GET', '/contacts'],
  ['GET', `/contacts/${encodeURIComponent('+14155557100')}`],
  ['DELETE', `/contacts/${encodeURIComponent('+14155557100')}`],
  ['POST', '/reconcile'],
  ['GET', '/reconcile/runs'],
];

describe('operator API', () => {
  it('refuses every route without the key or with a wrong one (403), leaking nothing', async () => {
    const key = stack.key;
    const wrongKeys: Record<string, string>[] = [
      {},
      { 'x-api-key': '' },
      { 'x-api-key': 'not-the-key' },
      { 'x-api-key': `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}` },
      { 'x-api-key': key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase() },
      { 'x-api-key': `${key}x` },
      { authorization: `Bearer ${key}` },
      { 'x-api-key-2': key },
    ];
    const results = [];
    for (const [method, path] of ROUTES) {
      for (const headers of wrongKeys) results.push(await refused(path, [403], headers, method));
      // The key in the query string is not the key.
      results.push(await refused(`${path}?x-api-key=${key}`, [403], {}, method));
    }
    expect(results.map((r) => r.status)).toEqual(results.map(() => 403));
    expect(results.flatMap((r) => r.leaked)).toEqual([]);
  });

  it('answers tampered and forged cursors with 400', async () => {
    const first = await get('/contacts?limit=3');
    const cursor = JSON.parse(first.text).nextCursor as string;
    expect(first.status).toBe(200);
    expect(cursor).toEqual(expect.any(String));
    // A real cursor works: the next page has other contacts.
    const next = await get(`/contacts?limit=3&cursor=${encodeURIComponent(cursor)}`);
    expect(next.status).toBe(200);

    const fixed = [
      `${cursor}x`,
      cursor.slice(0, -1),
      cursor.replace('.', ''),
      `${cursor}.${cursor}`,
      'x'.repeat(10_000),
      '.',
      // A well-formed cursor (valid checksum) made for another `since`, and one below its own since.
      encodeCursor('2026-11-24T00:00:00.000Z#+14155557100', '2026-11-01T00:00:00.000Z'),
    ];
    const results = [];
    for (const c of fixed) results.push(await refused(`/contacts?limit=3&cursor=${encodeURIComponent(c)}`, [400]));
    results.push(
      await refused(
        `/contacts?since=2026-11-25&cursor=${encodeURIComponent(encodeCursor('2026-11-24T00:00:00.000Z#+14155557100', '2026-11-25T00:00:00.000Z'))}`,
        [400],
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // One character of a real cursor changed.
          fc
            .tuple(
              fc.nat({ max: cursor.length - 1 }),
              fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
            )
            .filter(([i, ch]) => cursor[i] !== ch)
            .map(([i, ch]) => `${cursor.slice(0, i)}${ch}${cursor.slice(i + 1)}`),
          fc.string({ minLength: 1, maxLength: 300 }),
          fc.json().map((j) => Buffer.from(j).toString('base64url')),
          fc.json().map((j) => `${Buffer.from(j).toString('base64url')}.${cursor.split('.')[1]}`),
        ),
        async (c) => {
          const result = await refused(`/contacts?cursor=${encodeURIComponent(c)}`, [400]);
          results.push(result);
          expect(result.status).toBe(400);
        },
      ),
      { numRuns: RUNS },
    );
    expect(results.filter((r) => r.status !== 400 || !r.oneMessage || r.leaked.length > 0)).toEqual([]);
  });

  it('answers injection in paths and parameters with 400 or 404, never 5xx, leaking nothing', async () => {
    const nasty = [
      "' OR '1'='1",
      '"; DROP TABLE calls; --',
      '{"$ne":null}',
      '../stats',
      '..%2F..%2Fhealth',
      '\u0000',
      'CONTACT#+14155557100',
      '+1415555710*',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal log4j-style probe, not a template
      '${jndi:ldap://x}',
      '__proto__',
      'constructor',
      '<script>alert(1)</script>',
      'a'.repeat(5_000),
      '+1'.repeat(200),
      '١٢٣٤٥٦٧٨٩٠',
    ];
    const results = [];
    for (const value of nasty) {
      const v = encodeURIComponent(value);
      results.push(await refused(`/contacts/${v}`, [400, 404]));
      results.push(await refused(`/contacts?since=${v}`, [400]));
      results.push(await refused(`/contacts?limit=${v}`, [400]));
      results.push(await refused(`/stats?from=${v}`, [400]));
      results.push(await refused(`/stats?to=${v}`, [400]));
    }
    // A repeated parameter.
    results.push(await refused('/contacts?limit=1&limit=1000', [400]));
    const validDate = (s: string) => s.trim() === '' || /^\d{4}-\d{2}-\d{2}/.test(s);
    await fc.assert(
      fc.asyncProperty(
        // (`.` and `..` are not path segments: fetch resolves them away before sending.)
        fc.string({ minLength: 1, maxLength: 80 }).filter((s) => s !== '.' && s !== '..'),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !validDate(s)),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^\s*\+?0*[1-9]\d?\s*$|^\s*0*100\s*$/.test(s)),
        async (phone, date, limit) => {
          const answers = [
            await refused(`/contacts/${encodeURIComponent(phone)}`, [400, 404]),
            await refused(`/stats?from=${encodeURIComponent(date)}`, [400]),
            await refused(`/contacts?limit=${encodeURIComponent(limit)}`, [400]),
          ];
          results.push(...answers);
          for (const a of answers) expect(a.status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
    expect(results.filter((r) => r.status >= 500 || r.leaked.length > 0 || !r.oneMessage)).toEqual([]);
  });
  it('answers an erasure without the right confirmation with 400 or 415, erasing nothing', async () => {
    const [phone = '', otherPhone = ''] = phones;
    const path = `/contacts/${encodeURIComponent(phone)}`;
    // As an admin (erasing is theirs): npm start's first admin.
    const { idToken } = await signInWithPassword(stack.cognito, stack.cognito.admin.email, stack.cognito.admin.password);
    const admin = { 'x-api-key': stack.cognito.peopleKey, Authorization: `Bearer ${idToken}` };
    const json = { ...admin, 'Content-Type': 'application/json' };
    const results = [
      await refused(path, [400], json, 'DELETE', JSON.stringify({ confirm: otherPhone })),
      await refused(path, [400], json, 'DELETE', JSON.stringify({ confirm: phone, also: 1 })),
      await refused(path, [400], json, 'DELETE', JSON.stringify([phone])),
      await refused(path, [400], json, 'DELETE', ''),
      await refused(path, [415], { ...admin, 'Content-Type': 'text/plain' }, 'DELETE', phone),
      await refused(`/contacts/${encodeURIComponent("' OR 1=1")}`, [400], json, 'DELETE', JSON.stringify({ confirm: phone })),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json().filter((j) => !j.includes(phone.slice(2))),
        ),
        async (body) => {
          const answer = await refused(path, [400], json, 'DELETE', body);
          results.push(answer);
          expect(answer.status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
    expect(results.filter((r) => r.status >= 500 || r.leaked.length > 0 || !r.oneMessage)).toEqual([]);
    // Every seeded caller is still there.
    const listed = await get('/contacts?limit=100');
    expect(phones.filter((p) => !listed.text.includes(p))).toEqual([]);
  });
});
