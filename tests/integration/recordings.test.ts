/**
 * Deleting a forgotten call's recording at Twilio (the recordings function's handler), with the
 * official SDK against the local Twilio-shaped API: deleted once, gone after, Twilio's failures
 * thrown for Lambda to retry, nothing asked when DELETE_RECORDINGS=false or the event is not one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioApi, type TwilioApi } from '../../dev/twilio-api.js';
import { handleForgottenRecording } from '../../lib/recordings/forget.js';
import { TwilioAuthError, TwilioUnavailableError } from '../../lib/twilio/errors.js';
import { createTwilioRecordings } from '../../lib/twilio/recordings.js';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from '../helpers.js';
import { ACCOUNT, functionEnvironment, isAllowed, REGION, rolePolicy } from '../iam.js';
import { loadHandler } from '../lambda.js';

let api: TwilioApi;
beforeAll(async () => {
  api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: [AUTH_TOKEN] });
});
afterAll(async () => {
  await api.stop();
});

const recordings = (password = AUTH_TOKEN) =>
  createTwilioRecordings(async () => ({ accountSid: ACCOUNT_SID, username: ACCOUNT_SID, password, baseUrl: api.baseUrl }));
const forgotten = (recordingSid: string) => ({
  'detail-type': 'Recording forgotten',
  detail: { id: `recording-forgotten:${recordingSid}`, recordingSid, callSid: callSid() },
});
const keep = (sid: string) => api.recordings.set(sid, { sid, callSid: callSid(), durationSeconds: 21, dateCreated: new Date() });
const path = (sid: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${sid}.json`;

describe('the recordings function deletes a forgotten recording at Twilio', () => {
  it('deletes it once (DELETE …/Recordings/{sid}.json, 204); a re-delivery finds it gone (404) and succeeds', async () => {
    const sid = `RE${'1'.repeat(32)}`;
    keep(sid);
    const client = recordings();
    const before = api.requests.length;
    expect(await handleForgottenRecording(forgotten(sid), { enabled: true, recordings: client })).toBe('deleted');
    expect(api.recordings.has(sid)).toBe(false);
    expect(await handleForgottenRecording(forgotten(sid), { enabled: true, recordings: client })).toBe('gone');
    expect(api.requests.slice(before)).toEqual([
      { method: 'DELETE', url: path(sid), status: 204 },
      { method: 'DELETE', url: path(sid), status: 404 },
    ]);
    expect(client.requests()).toBe(2);
  });

  it('throws what Twilio may recover from (503, a refused credential) so that Lambda retries, and keeps the recording', async () => {
    const sid = `RE${'2'.repeat(32)}`;
    keep(sid);
    api.faults.push({ kind: 'status', status: 503, times: 1 });
    await expect(handleForgottenRecording(forgotten(sid), { enabled: true, recordings: recordings() })).rejects.toBeInstanceOf(
      TwilioUnavailableError,
    );
    await expect(
      handleForgottenRecording(forgotten(sid), { enabled: true, recordings: recordings('not-the-token-000000000000000000') }),
    ).rejects.toBeInstanceOf(TwilioAuthError);
    expect(api.recordings.has(sid)).toBe(true);
    // Lambda's retry, once Twilio is back.
    expect(await handleForgottenRecording(forgotten(sid), { enabled: true, recordings: recordings() })).toBe('deleted');
    expect(api.recordings.has(sid)).toBe(false);
  });

  it('asks Twilio nothing with DELETE_RECORDINGS=false, nor for an event that is not a Recording forgotten one', async () => {
    const sid = `RE${'3'.repeat(32)}`;
    keep(sid);
    const before = api.requests.length;
    expect(await handleForgottenRecording(forgotten(sid), { enabled: false, recordings: recordings() })).toBe('off');
    for (const event of [
      { 'detail-type': 'Voicemail left', detail: { recordingSid: sid } },
      { 'detail-type': 'Recording forgotten', detail: { recordingSid: '../Calls' } },
      { 'detail-type': 'Recording forgotten' },
    ]) {
      expect(await handleForgottenRecording(event, { enabled: true, recordings: recordings() })).toBe('invalid');
    }
    expect(api.requests.length).toBe(before);
    expect(api.recordings.has(sid)).toBe(true);
  });
});

describe('functions/recordings.ts, cold-started as packaged', () => {
  it('deletes a forgotten recording with the REST credential it reads from SSM under its role', async () => {
    const handler = await loadHandler<(event: unknown, context: unknown) => Promise<{ outcome: string }>>('recordings', {
      tableName: 'unused',
      env: { TWILIO_API_BASE_URL: api.baseUrl },
    });
    const sid = `RE${'6'.repeat(32)}`;
    keep(sid);
    expect(await handler(forgotten(sid), { functionName: 'recordings', awsRequestId: 'r1' })).toEqual({ outcome: 'deleted' });
    expect(api.recordings.has(sid)).toBe(false);
  });
});

describe("the recordings function's role (as packaged)", () => {
  it('may read the REST credential and send to its failure queue, and touch nothing of the table', () => {
    const statements = rolePolicy('recordings', { tableName: 'missed-call-ledger-prod' });
    const parameter = functionEnvironment('recordings').TWILIO_REST_SECRET_PARAM;
    expect(parameter).toMatch(/^\//);
    expect(isAllowed(statements, 'ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${parameter}`)).toBe(true);
    expect(isAllowed(statements, 'sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:missed-call-ledger-prod-recordings-failures`)).toBe(
      true,
    );
    expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(functionEnvironment('recordings').DELETE_RECORDINGS).toBe('true');
  });
});
