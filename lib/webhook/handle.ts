/**
 * The webhook's rules: which route is which Twilio callback (the route table), signature and
 * account checks, then the ledger. Returns the HTTP reply; throws the named errors that the
 * function's error mappers turn into statuses.
 */
import {
  type AnsweredCall,
  answeredByDialAction,
  answeredByQueue,
  answeredByStatusCallback,
  answeredByWholeCall,
} from '../callbacks/answered.js';
import type { CallingStore } from '../callbacks/calling.js';
import type { CallbackResolver } from '../callbacks/store.js';
import {
  type CallReport,
  classifyDialAction,
  classifyQueueResult,
  classifyRecordingStatus,
  classifyStatusCallback,
  classifyTranscription,
} from '../ledger/calls.js';
import type { Ledger } from '../ledger/store.js';
import { maskPhone } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import { HttpError, type HttpRequest, parseForm, signedUrl } from '../platform/request.js';
import { verifyTwilioSignature } from '../twilio/signature.js';
import { attemptOf, callbackTwiml, markAgentAnswered, recordAttemptCallback } from './attempts.js';
import type { WebhookConfig } from './config.js';
import { xmlEscape } from './twiml.js';

export interface HttpReply {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

type Params = Readonly<Record<string, string>>;

/** What a route makes of a callback, given the continuation asked for on its URL. */
interface Continuation {
  /** `next` on the action URL's query: where the caller's flow goes on (undefined: the reply ends the call). */
  next: string | undefined;
}

/** One Twilio callback route: how its parameters are classified, and what Twilio gets back. */
export interface TwilioRoute {
  /** Its name in logs. */
  name: string;
  /** What the callback reports about its root call. @throws InvalidCallbackError */
  classify(params: Params, config: WebhookConfig, continuation: Continuation): CallReport;
  /** The answered call it reports, which resolves the caller's open callback; undefined for most. */
  answered(params: Params, config: WebhookConfig): AnsweredCall | undefined;
  /** The reply: 204 to a status callback, TwiML where Twilio continues the call with it. */
  reply(config: WebhookConfig, continuation: Continuation): HttpReply;
}

const NO_CONTENT: HttpReply = { statusCode: 204, body: '' };
const twiml = (body: string): HttpReply => ({ statusCode: 200, headers: { 'Content-Type': 'text/xml' }, body });

/** An action's reply: `<Redirect>` to `next` when asked (the flow goes on), else the configured TwiML. */
const actionReply = (config: WebhookConfig, { next }: Continuation): HttpReply =>
  twiml(
    next === undefined
      ? config.dialActionTwiml
      : `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${xmlEscape(next)}</Redirect></Response>`,
  );

/** Whether an action's reply ends the call. */
const actionEnds = (config: WebhookConfig, { next }: Continuation): boolean => next === undefined && config.dialActionEnds;

/** Route templates (as in `serverless.yml`) to the callback each one receives. A new Twilio callback is one entry. */
export const ROUTES: ReadonlyMap<string, TwilioRoute> = new Map([
  [
    '/twilio/call-status',
    {
      name: 'call-status',
      classify: (params) => classifyStatusCallback(params),
      answered: (params, config) => answeredByStatusCallback(params, config.callbackMinSeconds),
      reply: () => NO_CONTENT,
    },
  ],
  [
    '/twilio/dial-status',
    {
      name: 'dial-status',
      classify: (params, config, continuation) => classifyDialAction(params, actionEnds(config, continuation)),
      answered: (params, config) => answeredByDialAction(params, config.callbackMinSeconds),
      // Twilio continues the call with what the Dial action answers.
      reply: actionReply,
    },
  ],
  [
    '/twilio/recording-status',
    {
      name: 'recording-status',
      classify: (params) => classifyRecordingStatus(params),
      answered: () => undefined,
      reply: () => NO_CONTENT,
    },
  ],
  [
    '/twilio/transcription',
    {
      name: 'transcription',
      classify: (params) => classifyTranscription(params),
      answered: () => undefined,
      reply: () => NO_CONTENT,
    },
  ],
  [
    '/twilio/queue-status',
    {
      name: 'queue-status',
      classify: (params, config, continuation) => classifyQueueResult(params, actionEnds(config, continuation)),
      answered: (params, config) => answeredByQueue(params, config.callbackMinSeconds),
      reply: actionReply,
    },
  ],
]);

/** The `next` continuation on an action URL's query: an absolute http(s) URL or a path. */
function continuationOf(request: HttpRequest): Continuation {
  const next = new URLSearchParams(request.query).get('next');
  if (next === null || next === '') return { next: undefined };
  if (next.length > 1000 || !(/^https?:\/\/[^\s]+$/.test(next) || /^\/[^\s]*$/.test(next))) {
    throw new HttpError(400, 'next must be an absolute http(s) URL or a path starting with /');
  }
  return { next };
}

export interface WebhookDeps {
  config: WebhookConfig;
  /** The accepted auth tokens (primary, then secondary during a rotation). */
  authTokens: () => Promise<readonly string[]>;
  ledger: Ledger;
  callbacks: CallbackResolver;
  /** Calls back through Twilio (their attempts); without it, their callbacks are refused. */
  calling?: CallingStore;
  now?: () => Date;
}

/** Twilio asks what to do once the agent of a call back answered (lib/webhook/attempts.ts). */
export const CALLBACK_CALL_ROUTE = '/twilio/callback-call';

/** A call back's own callbacks: the agent's answer (TwiML), its calls' ends and its Dial action. */
async function handleAttempt(request: HttpRequest, deps: WebhookDeps): Promise<HttpReply | undefined> {
  const attempt = attemptOf(request.query);
  if (request.route !== CALLBACK_CALL_ROUTE && attempt === undefined) return undefined;
  if (request.method !== 'POST') throw new HttpError(405, `${request.route} accepts POST only`);
  if (attempt === undefined) throw new HttpError(400, 'attempt and customer must name a call back (attempt id, E.164 number)');
  if (deps.calling === undefined) throw new HttpError(404, 'Calls back through Twilio are not served here');
  const params = parseForm(request);
  await verify(request, params, deps);
  if (request.route === CALLBACK_CALL_ROUTE) {
    if (attempt.line === undefined) throw new HttpError(400, 'line must be the E.164 number to call from');
    const url = signedUrl(request, deps.config.publicBaseUrl) ?? '';
    const base = url.slice(0, url.indexOf(CALLBACK_CALL_ROUTE));
    await markAgentAnswered(deps.calling, attempt, { minSeconds: deps.config.callbackMinSeconds, now: deps.now?.() ?? new Date() });
    return twiml(callbackTwiml(base, { attemptId: attempt.attemptId, customer: attempt.customer, line: attempt.line }));
  }
  if (request.route !== '/twilio/call-status' && request.route !== '/twilio/dial-status')
    throw new HttpError(400, `${request.route} takes no call back`);
  await recordAttemptCallback(request.route, params, attempt, {
    calling: deps.calling,
    callbacks: deps.callbacks,
    minSeconds: deps.config.callbackMinSeconds,
    now: deps.now?.() ?? new Date(),
  });
  return request.route === '/twilio/dial-status'
    ? twiml('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>')
    : NO_CONTENT;
}

function routeOf(request: HttpRequest): TwilioRoute {
  const route = ROUTES.get(request.route);
  if (route === undefined) throw new HttpError(404, `No route ${request.route.slice(0, 80)}`);
  if (request.method !== 'POST') throw new HttpError(405, `${request.route} accepts POST only`);
  return route;
}

/** Refuses a request that Twilio did not sign for this deployment's account. */
async function verify(request: HttpRequest, params: Params, deps: WebhookDeps): Promise<void> {
  const signature = request.headers['x-twilio-signature'];
  if (signature === undefined || signature === '') throw new HttpError(403, 'Missing X-Twilio-Signature header');
  const url = signedUrl(request, deps.config.publicBaseUrl);
  if (url === undefined) throw new HttpError(403, 'Cannot tell which URL was signed: set PUBLIC_BASE_URL');
  // The URL as called, and the same URL with the configured connection-override fragment
  // (whether Twilio signs the fragment is not documented). URLs hold no secret: the refusal
  // names them, so that a wrong PUBLIC_BASE_URL is plain to see.
  // REST API v1 gives the query decoded, and it is rebuilt percent-encoded: Twilio signed it as
  // written in the TwiML (`?next=/voicemail`), so the query with the characters a query may hold
  // as they are is a candidate too.
  const query = url.indexOf('?');
  const loose =
    query < 0
      ? url
      : url.slice(0, query) + url.slice(query).replace(/%(2F|3A|40|21|24|27|28|29|2A|2C|3B|3F)/gi, (m) => decodeURIComponent(m));
  const urls = loose === url ? [url] : [url, loose];
  const candidates = deps.config.urlFragment === undefined ? urls : urls.flatMap((u) => [u, `${u}#${deps.config.urlFragment}`]);
  const tokens = await deps.authTokens();
  if (!candidates.some((candidate) => verifyTwilioSignature(tokens, signature, candidate, params))) {
    throw new HttpError(403, `Invalid X-Twilio-Signature (checked against ${candidates.join(' and ')})`);
  }
  if (params.AccountSid !== deps.config.accountSid) {
    throw new HttpError(403, 'AccountSid does not match this deployment');
  }
}

/** Handles one Twilio callback end to end. */
export async function handleWebhook(request: HttpRequest, deps: WebhookDeps): Promise<HttpReply> {
  const attempt = await handleAttempt(request, deps);
  if (attempt !== undefined) return attempt;
  const route = routeOf(request);
  const continuation = continuationOf(request);
  const params = parseForm(request);
  await verify(request, params, deps);

  const report = route.classify(params, deps.config, continuation);
  const result = await deps.ledger.record(report);
  logger.info('Callback recorded', {
    route: route.name,
    callSid: params.CallSid,
    rootCallSid: report.rootCallSid,
    evidence: report.evidence.map((e) => e.kind),
    ends: report.ends,
    outcome: result.outcome,
    ...(result.reason === undefined ? {} : { reason: result.reason }),
    counted: result.counted,
    from: maskPhone(params.From),
    to: maskPhone(params.To),
  });
  // Only a call a person took resolves a callback: not one the ledger says nobody answered (a
  // forwarded phone's voicemail completes a Dial too).
  const answered =
    result.outcome === 'missed' || result.outcome === 'undecided'
      ? undefined
      : (route.answered(params, deps.config) ?? answeredByWholeCall(result.returned, deps.config.callbackMinSeconds));
  if (answered !== undefined) {
    // An answered call with the number: one read when it resolves nothing (the common case).
    const resolved = await deps.callbacks.resolve(answered.phone, answered.call);
    logger.info(resolved.outcome === 'resolved' ? 'Callback resolved' : 'Answered call, no open callback it resolves', {
      route: route.name,
      callSid: params.CallSid,
      customer: maskPhone(answered.phone),
      resolvedBy: answered.call.by,
      durationSeconds: answered.durationSeconds,
      outcome: resolved.outcome,
      ...(resolved.outcome === 'resolved'
        ? { resolved: resolved.resolutions.map((r) => ({ missedCount: r.missedCount, secondsToCallback: r.secondsToCallback })) }
        : {}),
    });
  }
  return route.reply(deps.config, continuation);
}
