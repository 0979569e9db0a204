/**
 * The one middy stack of the HTTP handlers: named domain errors become HTTP statuses here,
 * once, and never leak an error object or a stack trace to the client.
 */
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { createError } from '@middy/util';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { InvalidCallbackError } from '../ledger/calls.js';
import { TableUnavailableError } from '../ledger/schema.js';
import { ReconcileDeadlineError } from '../reconcile/reconcile.js';
import { TwilioAuthError, TwilioUnavailableError } from '../twilio/errors.js';
import { logger } from './log.js';
import { HttpError, type HttpEvent } from './request.js';
import { SecretUnavailableError } from './secrets.js';

export type HttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyResult>;

const json = (message: string): string => JSON.stringify({ message });

/** The HTTP error a thrown error maps to. Unknown errors are 500 with a generic message. */
export function toHttpError(error: unknown): Error & { statusCode: number } {
  if (error instanceof HttpError) return createError(error.statusCode, json(error.message));
  if (error instanceof InvalidCallbackError) return createError(400, json(error.message));
  if (error instanceof TableUnavailableError || error instanceof SecretUnavailableError) {
    // 503: the delivery was not recorded; Twilio retries per the URL's connection overrides.
    // createError (middy 6) ignores `headers`; http-error-handler reads them from the error.
    return Object.assign(createError(503, json('Temporarily unavailable, retry later'), { expose: true }), {
      headers: { 'Retry-After': '1' },
    });
  }
  if (error instanceof ReconcileDeadlineError) {
    return Object.assign(createError(503, json(error.message), { expose: true }), { headers: { 'Retry-After': '60' } });
  }
  if (error instanceof TwilioAuthError) return createError(502, json(error.message), { expose: true });
  if (error instanceof TwilioUnavailableError) {
    return Object.assign(createError(503, json(error.message), { expose: true }), { headers: { 'Retry-After': '60' } });
  }
  return createError(500, json('Internal error'), { expose: true });
}

/** Wraps a handler in the shared stack: request logging context, error mapping, error replies. */
export function httpStack(handler: HttpHandler) {
  return middy<HttpEvent, APIGatewayProxyResult>()
    .use(httpErrorHandler({ logger: false }))
    .use({
      before: (request) => {
        logger.addContext(request.context);
      },
      onError: (request) => {
        const mapped = toHttpError(request.error);
        const log = mapped.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
        // The error's own message never holds tokens, signatures or full numbers.
        log('Request refused', { statusCode: mapped.statusCode, error: request.error });
        request.error = mapped;
      },
    })
    .handler(handler);
}
