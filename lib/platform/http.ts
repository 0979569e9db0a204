/**
 * The one middy stack of the HTTP handlers: thrown errors become HTTP statuses here, once, and
 * never leak an error object or a stack trace to the client. {@link HttpError} carries its own
 * status; the ledger's domain errors are mapped by lib/platform/http-errors.ts, which the
 * functions that can throw them pass in (the dashboard's stack goes without it and its imports).
 */
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { createError } from '@middy/util';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from './log.js';
import { HttpError, type HttpEvent } from './request.js';

export type HttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** An error the client may see: its status, a JSON `{ message }` body and optional headers. */
export type ExposedError = Error & { statusCode: number; headers?: Record<string, string> };

/** Maps the errors it knows to their HTTP reply; undefined for the rest. */
export type ErrorMapper = (error: unknown) => ExposedError | undefined;

/** A reply of `statusCode` whose body is `{ message }`, with optional headers. */
export function exposed(
  statusCode: number,
  message: string,
  headers?: Record<string, string>,
  extra?: Record<string, string>,
): ExposedError {
  // createError (middy 6) ignores `headers`; http-error-handler reads them from the error.
  const error = createError(statusCode, JSON.stringify({ message, ...extra }), { expose: true });
  return headers === undefined ? error : Object.assign(error, { headers });
}

/** The HTTP error a thrown error maps to. Unknown errors are 500 with a generic message. */
export function toHttpError(error: unknown, mapDomain?: ErrorMapper): ExposedError {
  if (error instanceof HttpError) return exposed(error.statusCode, error.message);
  return mapDomain?.(error) ?? exposed(500, 'Internal error');
}

/** Wraps a handler in the shared stack: request logging context, error mapping, error replies. */
export function httpStack(handler: HttpHandler, mapDomain?: ErrorMapper) {
  return middy<HttpEvent, APIGatewayProxyResult>()
    .use(httpErrorHandler({ logger: false }))
    .use({
      before: (request) => {
        logger.addContext(request.context);
      },
      onError: (request) => {
        const mapped = toHttpError(request.error, mapDomain);
        const log = mapped.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
        // The error's own message never holds tokens, signatures or full numbers.
        log('Request refused', { statusCode: mapped.statusCode, error: request.error });
        request.error = mapped;
      },
    })
    .handler(handler);
}
