/**
 * The webhook's rules: which route is which callback, signature and account checks, then the
 * ledger. Returns the HTTP reply; throws the named errors that `lib/platform/http.ts` maps to statuses.
 */
import { answeredCall } from '../callbacks/answered.js';
import type { CallbackResolver } from '../callbacks/store.js';
import { type Classified, classifyDialAction, classifyStatusCallback } from '../ledger/calls.js';
import { maskPhone } from '../ledger/phone.js';
import type { Ledger } from '../ledger/store.js';
import { logger } from '../platform/log.js';
import { HttpError, type HttpRequest, parseForm, signedUrl } from '../platform/request.js';
import { verifyTwilioSignature } from '../twilio/signature.js';
import type { WebhookConfig } from './config.js';

type Route = 'call-status' | 'dial-status';

/** Route templates (as in `serverless.yml`) to the callback each one receives. */
export const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/twilio/call-status', 'call-status'],
  ['/twilio/dial-status', 'dial-status'],
]);

export interface WebhookDeps {
  config: WebhookConfig;
  /** The accepted auth tokens (primary, then secondary during a rotation). */
  authTokens: () => Promise<readonly string[]>;
  ledger: Ledger;
  callbacks: CallbackResolver;
}

export interface HttpReply {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

function routeOf(request: HttpRequest): Route {
  const route = ROUTES.get(request.route);
  if (route === undefined) throw new HttpError(404, `No route ${request.route.slice(0, 80)}`);
  if (request.method !== 'POST') throw new HttpError(405, `${request.route} accepts POST only`);
  return route;
}

/** Handles one Twilio callback end to end. */
export async function handleWebhook(request: HttpRequest, deps: WebhookDeps): Promise<HttpReply> {
  const route = routeOf(request);
  const params = parseForm(request);

  const signature = request.headers['x-twilio-signature'];
  if (signature === undefined || signature === '') throw new HttpError(403, 'Missing X-Twilio-Signature header');
  const url = signedUrl(request, deps.config.publicBaseUrl);
  if (url === undefined) throw new HttpError(403, 'Cannot tell which URL was signed: set PUBLIC_BASE_URL');
  // The URL as called, and the same URL with the configured connection-override fragment
  // (whether Twilio signs the fragment is not documented). URLs hold no secret: the refusal
  // names them, so that a wrong PUBLIC_BASE_URL is plain to see.
  const candidates = deps.config.urlFragment === undefined ? [url] : [url, `${url}#${deps.config.urlFragment}`];
  const tokens = await deps.authTokens();
  if (!candidates.some((candidate) => verifyTwilioSignature(tokens, signature, candidate, params))) {
    throw new HttpError(403, `Invalid X-Twilio-Signature (checked against ${candidates.join(' and ')})`);
  }
  if (params.AccountSid !== deps.config.accountSid) {
    throw new HttpError(403, 'AccountSid does not match this deployment');
  }

  const classified: Classified =
    route === 'call-status'
      ? classifyStatusCallback(params, deps.config.includeCanceled)
      : classifyDialAction(params, deps.config.includeCanceled);

  if (classified.kind === 'ignored') {
    const answered = answeredCall(route, params, deps.config.callbackMinSeconds);
    if (answered === undefined) {
      logger.info('Callback acknowledged, not a missed call', { route, callSid: classified.callSid, status: classified.status });
    } else {
      // An answered call with the number: one read when it resolves nothing (the common case).
      const result = await deps.callbacks.resolve(answered.phone, answered.call);
      logger.info(result.outcome === 'resolved' ? 'Callback resolved' : 'Answered call, no open callback it resolves', {
        route,
        callSid: classified.callSid,
        customer: maskPhone(answered.phone),
        resolvedBy: answered.call.by,
        durationSeconds: answered.durationSeconds,
        outcome: result.outcome,
        ...(result.outcome === 'resolved'
          ? { resolved: result.resolutions.map((r) => ({ missedCount: r.missedCount, secondsToCallback: r.secondsToCallback })) }
          : {}),
      });
    }
  } else {
    const { call } = classified;
    const result = await deps.ledger.record(call);
    logger.info(result.outcome === 'recorded' ? 'Missed call recorded' : 'Duplicate delivery, nothing counted', {
      route,
      callSid: params.CallSid,
      rootCallSid: call.rootCallSid,
      status: call.status,
      source: call.source,
      direction: call.direction,
      from: maskPhone(call.from),
      to: maskPhone(call.to),
      ...result,
    });
  }

  if (route === 'dial-status') {
    return { statusCode: 200, headers: { 'Content-Type': 'text/xml' }, body: deps.config.dialActionTwiml };
  }
  return { statusCode: 204, body: '' };
}
