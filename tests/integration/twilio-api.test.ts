/**
 * The official `twilio` SDK (Calls slice) against the local Twilio-shaped API, and that API's
 * responses checked against Twilio's own OpenAPI document (a subset in tests/fixtures).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCallSid, startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { createTwilioCalls, TwilioAuthError, TwilioDeadlineError, TwilioUnavailableError } from '../../lib/twilio/client.js';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers.js';

// A subset of Twilio's own OpenAPI document (see its _source field), kept in the repository.
const OAI = new URL('../fixtures/twilio_api_v2010.calls.json', import.meta.url);

let api: TwilioApi;
beforeAll(async () => {
  api = await startTwilioApi({
    accountSid: ACCOUNT_SID,
    authTokens: [AUTH_TOKEN],
    apiKeys: { SK00000000000000000000000000000001: 'key-secret' },
  });
  const base = Date.parse('2026-11-20T00:00:00Z');
  for (let i = 0; i < 2500; i++) {
    api.calls.push({
      sid: newCallSid(),
      from: `+1415555${String(i).padStart(4, '0')}`,
      to: '+14155559876',
      status: 'no-answer',
      direction: 'inbound',
      startTime: new Date(base + i * 1000),
    });
  }
  api.calls.push({
    sid: newCallSid(),
    from: '+14155550001',
    to: '+14155559876',
    status: 'completed',
    direction: 'inbound',
    startTime: new Date(base),
    durationSeconds: 30,
  });
});
afterAll(async () => {
  await api.stop();
});

const client = (overrides: Partial<Parameters<typeof createTwilioCalls>[0]> = {}) =>
  createTwilioCalls({
    accountSid: ACCOUNT_SID,
    username: ACCOUNT_SID,
    password: AUTH_TOKEN,
    baseUrl: api.baseUrl,
    sleep: async () => {},
    ...overrides,
  });

/** The size of each page the client yields (calls inside the window). */
async function listAll(calls: ReturnType<typeof createTwilioCalls>, from: Date, to: Date) {
  const pages: number[] = [];
  for await (const page of calls.list('no-answer', from, to)) pages.push(page.calls.length);
  return pages;
}
const sum = (pages: number[]) => pages.reduce((a, b) => a + b, 0);

describe('the SDK against the local Twilio API', () => {
  it('lists a status in a time window in pages of 1000, following next_page_uri', async () => {
    const calls = client();
    const pages = await listAll(calls, new Date('2026-11-19T00:00:00Z'), new Date('2026-11-21T00:00:00Z'));
    expect(pages).toEqual([1000, 1000, 500]);
    expect(calls.requests()).toBe(3);
    const urls = api.requests.slice(-3).map((r) => new URL(r.url, api.baseUrl));
    expect(urls[0]?.searchParams.get('Status')).toBe('no-answer');
    expect(urls[0]?.searchParams.get('StartTime>')).toBe('2026-11-19T00:00:00Z');
    // Whole UTC days: the day after the window's end, so that a date-granular reading loses nothing.
    expect(urls[0]?.searchParams.get('StartTime<')).toBe('2026-11-22T00:00:00Z');
    expect(urls[0]?.searchParams.get('PageSize')).toBe('1000');
    expect(urls[1]?.searchParams.get('PageToken')).toMatch(/^PACA[0-9a-f]{32}$/);
  });

  it('keeps only the calls that started inside the window, under either reading of the date filters', async () => {
    for (const mode of ['exact', 'day'] as const) {
      api.dateFilters = mode;
      const seen: string[] = [];
      for await (const page of client({ pageSize: 500 }).list(
        'no-answer',
        new Date('2026-11-20T00:00:05Z'),
        new Date('2026-11-20T00:00:14Z'),
      )) {
        seen.push(...page.calls.map((c) => c.from));
      }
      expect(seen.sort(), mode).toEqual(Array.from({ length: 10 }, (_, i) => `+1415555${String(i + 5).padStart(4, '0')}`));
    }
    api.dateFilters = 'exact';
  });

  it('reads the local API in day mode as Twilio documents it: timestamps truncated to their date', async () => {
    api.dateFilters = 'day';
    const url = (q: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?Status=no-answer&PageSize=1&${q}`;
    const auth = { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` };
    const count = async (q: string) =>
      ((await (await fetch(`${api.baseUrl}${url(q)}`, { headers: auth })).json()) as { calls: unknown[] }).calls.length;
    // StartTime< 2026-11-20T00:41:00Z reads as "before 2026-11-20": none of that day's calls.
    expect(await count('StartTime%3C=2026-11-20T00:41:00Z')).toBe(0);
    expect(await count('StartTime%3E=2026-11-20T00:41:00Z')).toBe(1);
    api.dateFilters = 'exact';
    expect(await count('StartTime%3C=2026-11-20T00:41:00Z')).toBe(1);
  });

  it('accepts an API key and secret', async () => {
    const pages = await listAll(
      client({ username: 'SK00000000000000000000000000000001', password: 'key-secret' }),
      new Date('2026-11-20T00:00:00Z'),
      new Date('2026-11-20T00:00:00Z'),
    );
    expect(sum(pages)).toBe(1);
  });

  it('checks credentials with a Calls list of one: an API key passes, though it may not read the account', async () => {
    const key = client({ username: 'SK00000000000000000000000000000001', password: 'key-secret' });
    await expect(key.checkCredentials()).resolves.toBeUndefined();
    expect(new URL(api.requests.at(-1)?.url ?? '', api.baseUrl).searchParams.get('PageSize')).toBe('1');
    const account = await fetch(`${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}.json`, {
      headers: { Authorization: `Basic ${Buffer.from('SK00000000000000000000000000000001:key-secret').toString('base64')}` },
    });
    expect(account.status).toBe(403);
    await expect(client({ password: 'wrong' }).checkCredentials()).rejects.toThrow('Twilio credentials rejected (401)');
  });

  it('rides out a 429 storm and a 500, counting every attempt', async () => {
    api.faults.push({ kind: 'status', status: 429, times: 4 }, { kind: 'status', status: 500, times: 1 });
    const calls = client();
    const pages = await listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'));
    expect(sum(pages)).toBe(5);
    // The whole day is 3 pages; the first took 5 more attempts.
    expect(calls.requests()).toBe(3 + 5);
  });

  it('gives up after its bound with TwilioUnavailableError', async () => {
    api.faults.push({ kind: 'status', status: 429, times: 10 });
    const calls = client({ maxAttempts: 3 });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'))).rejects.toThrow(
      TwilioUnavailableError,
    );
    expect(calls.requests()).toBe(3);
    api.faults.length = 0;
  });

  it('abandons a page slower than its deadline with TwilioDeadlineError, without retrying it', async () => {
    api.faults.push({ kind: 'delay', ms: 3_000, times: 1 });
    const end = Date.now() + 300;
    const calls = client({ deadlineMs: () => end - Date.now() });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-20T00:00:04Z'))).rejects.toThrow(TwilioDeadlineError);
    // One attempt, cut at the deadline: neither the 15 s timeout nor a retry was waited for.
    expect(calls.requests()).toBe(1);
    expect(api.faults[0]?.times).toBe(0);
    api.faults.length = 0;
  });

  it('fails at once with a clear message on a wrong token (401)', async () => {
    const calls = client({ password: 'wrong-token' });
    await expect(listAll(calls, new Date('2026-11-20T00:00:00Z'), new Date('2026-11-21T00:00:00Z'))).rejects.toThrow(
      new TwilioAuthError('Twilio credentials rejected (401): check TWILIO_ACCOUNT_SID and the auth token or API key'),
    );
    expect(calls.requests()).toBe(1);
  });

  it('fetches one call, and undefined for an unknown SID', async () => {
    const first = api.calls[0];
    expect(await client().fetch(first?.sid ?? '')).toMatchObject({
      sid: first?.sid,
      from: first?.from,
      status: 'no-answer',
      direction: 'inbound',
    });
    expect(await client().fetch(newCallSid())).toBeUndefined();
  });
});

describe("the local API's responses against Twilio's OpenAPI document", () => {
  type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; $ref?: string; nullable?: boolean };
  const doc = JSON.parse(readFileSync(OAI, 'utf8')) as {
    components: { schemas: Record<string, Schema> };
    paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: Schema } } } } } }>;
  };
  const resolve = (schema: Schema): Schema => (schema.$ref ? (doc.components.schemas[schema.$ref.split('/').at(-1) ?? ''] ?? {}) : schema);

  /** Every property must be declared in the schema, with the declared JSON type. */
  function conforms(value: unknown, schema: Schema, path: string): string[] {
    const s = resolve(schema);
    if (value === null) return s.nullable || s.type === undefined ? [] : [`${path} is null`];
    if (s.type === 'array')
      return Array.isArray(value) ? value.flatMap((v, i) => conforms(v, s.items ?? {}, `${path}[${i}]`)) : [`${path} not an array`];
    if (s.type === 'object' && s.properties) {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path} not an object`];
      return Object.entries(value).flatMap(([k, v]) => {
        const prop = s.properties?.[k];
        return prop === undefined ? [`${path}.${k} is not in the schema`] : conforms(v, prop, `${path}.${k}`);
      });
    }
    if (s.type === 'integer') return Number.isInteger(value) ? [] : [`${path} not an integer`];
    if (s.type === 'string') return typeof value === 'string' ? [] : [`${path} not a string`];
    if (s.type === 'object') return typeof value === 'object' ? [] : [`${path} not an object`];
    return [];
  }

  const get = async (path: string) => {
    const response = await fetch(`${api.baseUrl}${path}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    const body: unknown = await response.json();
    return body;
  };

  it('a Calls list page conforms to ListCallResponse', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json?Status=no-answer&PageSize=2`);
    const schema = doc.paths['/2010-04-01/Accounts/{AccountSid}/Calls.json']?.get.responses[200].content['application/json'].schema ?? {};
    expect(conforms(body, schema, 'page')).toEqual([]);
    if (typeof body !== 'object' || body === null || !('calls' in body) || !Array.isArray(body.calls)) throw new Error('not a page');
    expect(body.calls).toHaveLength(2);
    expect(body.calls[0]?.start_time).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('the fetched account conforms to api.v2010.account', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}.json`);
    expect(conforms(body, { $ref: '#/components/schemas/api.v2010.account' }, 'account')).toEqual([]);
  });

  it('a fetched call conforms to api.v2010.account.call', async () => {
    const body = await get(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${api.calls[0]?.sid}.json`);
    expect(conforms(body, { $ref: '#/components/schemas/api.v2010.account.call' }, 'call')).toEqual([]);
  });
});

describe('recordings on the local Twilio API (as Twilio serves them with media authentication on)', () => {
  const auth = { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` };
  const sid = `RE${'6'.repeat(32)}`;
  const url = (ext: string) => `${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${sid}${ext}`;

  it('serves its resource and its MP3 with the credential, 401 without, and deletes it once', async () => {
    const seeded = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify([{ sid, callSid: newCallSid(), durationSeconds: 9 }]),
    });
    expect(seeded.status).toBe(201);
    const resource = await fetch(url('.json'), { headers: auth });
    expect(await resource.json()).toMatchObject({ sid, duration: '9', status: 'completed', source: 'RecordVerb' });
    const audio = await fetch(url('.mp3'), { headers: auth });
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await audio.arrayBuffer());
    // 250 frames of 36 ms (9 s), each an MPEG-1 Layer III header (32 kbps, 32 kHz, mono) and empty side information.
    expect(bytes.length).toBe(250 * 144);
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xfb, 0x18, 0xc0]);
    expect((await fetch(url('.mp3'))).status).toBe(401);
    expect((await fetch(url('.json'), { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(url('.json'), { method: 'DELETE', headers: auth })).status).toBe(404);
    expect((await fetch(url('.mp3'), { headers: auth })).status).toBe(404);
  });

  it('serves the WAV (its default, with no extension too) and the transcription, which goes with the recording', async () => {
    const wavSid = `RE${'7'.repeat(32)}`;
    const transcriptionSid = `TR${'7'.repeat(32)}`;
    const base = `${api.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}`;
    const seeded = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({
        sid: wavSid,
        callSid: newCallSid(),
        durationSeconds: 3,
        transcription: { sid: transcriptionSid, text: 'Call me' },
      }),
    });
    expect(seeded.status).toBe(201);
    for (const ext of ['.wav', '']) {
      const wav = await fetch(`${base}/Recordings/${wavSid}${ext}`, { headers: auth });
      expect(wav.headers.get('content-type')).toBe('audio/x-wav');
      const bytes = Buffer.from(await wav.arrayBuffer());
      // RIFF/WAVE, PCM 8 kHz mono 16-bit: 3 s are 48,000 bytes of samples after a 44-byte header.
      expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
      expect(bytes.subarray(8, 12).toString('ascii')).toBe('WAVE');
      expect([bytes.readUInt16LE(20), bytes.readUInt16LE(22), bytes.readUInt32LE(24), bytes.readUInt16LE(34)]).toEqual([1, 1, 8000, 16]);
      expect(bytes.readUInt32LE(40)).toBe(48_000);
      expect(bytes.length).toBe(44 + 48_000);
    }
    const transcription = await fetch(`${base}/Transcriptions/${transcriptionSid}.json`, { headers: auth });
    expect(await transcription.json()).toMatchObject({
      sid: transcriptionSid,
      recording_sid: wavSid,
      status: 'completed',
      transcription_text: 'Call me',
    });
    expect((await fetch(`${base}/Transcriptions/${transcriptionSid}.json`)).status).toBe(401);
    expect((await fetch(`${base}/Recordings/${wavSid}.json`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(`${base}/Transcriptions/${transcriptionSid}.json`, { headers: auth })).status).toBe(404);
  });

  it('refuses a recording it cannot keep', async () => {
    const refused = await fetch(`${api.baseUrl}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({ sid: 'RE1', durationSeconds: 3 }),
    });
    expect(refused.status).toBe(400);
  });
});
