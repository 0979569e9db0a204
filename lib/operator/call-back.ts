/**
 * `POST /callbacks/{phone}/call` `{ "agent": "+1…", "force"?: true }`: calls a customer back
 * through Twilio. Twilio rings the agent first, from the line the customer called (or
 * `CALLBACK_CALLER_ID`); when the agent answers it requests `/twilio/callback-call`, whose TwiML
 * bridges the customer (lib/webhook/attempts.ts). The attempt claims the customer for
 * `CLAIM_SECONDS`, so two people do not call them at once; `Idempotency-Key` names the attempt,
 * so a double click places one call.
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type CallingStore, ClaimedError } from '../callbacks/calling.js';
import type { Actor } from '../callbacks/model.js';
import { operatorPhone } from '../phone/phone.js';
import { type ErrorMapper, exposed } from '../platform/http.js';
import { logger } from '../platform/log.js';
import { HttpError, type HttpRequest, parseJsonBody } from '../platform/request.js';
import { isRecord, TableUnavailableError } from '../table/items.js';
import { contactKey } from '../table/keys.js';
import { TwilioUnavailableError } from '../twilio/errors.js';
import { CallRefusedError, CallUncertainError, type PlaceCall } from '../twilio/place-call.js';
import type { OperatorConfig } from './config.js';

/** A call back that cannot go ahead (409: claimed, no line, being placed) or Twilio's refusal (502, 503). */
export class CallBackError extends Error {
  override name = 'CallBackError';
  constructor(
    readonly statusCode: 409 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Its HTTP reply (composed by lib/platform/http.ts `httpStack`). */
export const callBackErrors: ErrorMapper = (error) =>
  error instanceof CallBackError ? exposed(error.statusCode, error.message) : undefined;

/** The agent's phone, and whether to take over someone else's claim. */
export function parseCallBody(request: Pick<HttpRequest, 'body' | 'headers'>, config: Pick<OperatorConfig, 'defaultCountry'>) {
  const parsed = parseJsonBody(request);
  if (!isRecord(parsed) || Object.keys(parsed).some((key) => key !== 'agent' && key !== 'force'))
    throw new HttpError(400, 'body must be {"agent": "<your phone>", "force"?: true}');
  const agent = typeof parsed.agent === 'string' ? operatorPhone(parsed.agent, config.defaultCountry) : undefined;
  if (agent === undefined) throw new HttpError(400, 'agent must be your phone number (E.164, or national)');
  if (parsed.force !== undefined && typeof parsed.force !== 'boolean') throw new HttpError(400, 'force must be true or false');
  return { agent, force: parsed.force === true };
}

/** The number's open callback (when it opened, the line the customer called), a consistent read of its contact; undefined when none. */
export async function openCallbackOf(
  client: DynamoDBDocumentClient,
  tableName: string,
  phone: string,
): Promise<{ openSince: string; line: string } | undefined> {
  let callback: unknown;
  try {
    const read = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: contactKey(phone) }, ProjectionExpression: 'callback', ConsistentRead: true }),
    );
    callback = read.Item?.callback;
  } catch (error) {
    throw new TableUnavailableError('The contact could not be read', { cause: error });
  }
  if (!isRecord(callback) || typeof callback.openSince !== 'string') return undefined;
  return { openSince: callback.openSince, line: typeof callback.line === 'string' ? callback.line : '' };
}

/** The attempt's id: the request's `Idempotency-Key`, or a new one. */
function attemptIdOf(request: Pick<HttpRequest, 'headers'>): string {
  const key = request.headers['idempotency-key'];
  if (key === undefined || key === '') return randomUUID();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new HttpError(400, 'Idempotency-Key must be 1 to 64 letters, digits, - or _');
  return key;
}

/** This API's base URL as the caller reached it (the stage included), unless PUBLIC_BASE_URL says. */
function baseUrlOf(request: Pick<HttpRequest, 'requestUrl'>, publicBaseUrl: string | undefined): string {
  if (publicBaseUrl !== undefined) return publicBaseUrl;
  const url = request.requestUrl ?? '';
  const at = url.lastIndexOf('/callbacks/');
  if (at < 0) throw new Error('Cannot tell this API’s URL: set PUBLIC_BASE_URL');
  return url.slice(0, at);
}

export interface CallBackDeps {
  config: OperatorConfig;
  documents: DynamoDBDocumentClient;
  calling: CallingStore;
  placeCall: PlaceCall;
  now: Date;
  /** Who calls, when a person signed in (kept on the attempt and the claim). */
  person?: Actor;
}

export async function callBack(
  phone: string,
  request: HttpRequest,
  deps: CallBackDeps,
): Promise<{ callSid: string; attemptId: string; replayed: boolean }> {
  const { config } = deps;
  const { agent, force } = parseCallBody(request, config);
  const attemptId = attemptIdOf(request);
  const callback = await openCallbackOf(deps.documents, config.tableName, phone);
  if (callback === undefined) throw new HttpError(404, 'No open callback for this number');
  const line = (callback.line !== '' ? callback.line : undefined) ?? config.callbackCallerId;
  if (line === undefined) throw new CallBackError(409, 'No line to call from (the callback names none): set CALLBACK_CALLER_ID');
  let started: Awaited<ReturnType<CallingStore['start']>>;
  try {
    started = await deps.calling.start(
      phone,
      { id: attemptId, agent, ...(deps.person === undefined ? {} : { person: deps.person }) },
      { now: deps.now, claimSeconds: config.claimSeconds, force },
    );
  } catch (error) {
    if (error instanceof ClaimedError) throw new CallBackError(409, `${error.message}: wait, or send "force": true`);
    throw error;
  }
  if (!started.created) {
    if (started.attempt.callSid !== undefined) return { callSid: started.attempt.callSid, attemptId, replayed: true };
    throw new CallBackError(409, 'This call back is being placed');
  }
  const base = baseUrlOf(request, config.publicBaseUrl);
  const query = `attempt=${encodeURIComponent(attemptId)}&customer=${encodeURIComponent(phone)}`;
  try {
    const { callSid } = await deps.placeCall({
      to: agent,
      from: line,
      url: `${base}/twilio/callback-call?${query}&line=${encodeURIComponent(line)}`,
      statusCallback: `${base}/twilio/call-status?${query}`,
      timeout: 20,
    });
    await deps.calling.placed(phone, attemptId, callSid);
    logger.info('Call back placed', { attemptId, callSid });
    return { callSid, attemptId, replayed: false };
  } catch (error) {
    if (error instanceof CallRefusedError || error instanceof TwilioUnavailableError) {
      // Nothing was placed: the attempt and its claim go.
      await deps.calling.abandon(phone, attemptId);
      if (error instanceof CallRefusedError) {
        throw new CallBackError(502, `Twilio refused the call${error.code === undefined ? '' : ` (${error.code})`}: ${error.message}`);
      }
      throw new CallBackError(503, 'Twilio could not be reached; nothing was placed');
    }
    if (error instanceof CallUncertainError) {
      // It may ring: never placed again; the claim holds until its outcome comes or it expires.
      throw new CallBackError(502, 'Twilio did not answer whether it placed the call: its outcome shows on the callback if it did');
    }
    throw error;
  }
}
