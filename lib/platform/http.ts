/**
 * The one middy stack of the HTTP handlers: thrown errors become HTTP statuses here, once, and
 * never leak an error object or a stack trace to the client. {@link HttpError} carries its own
 * status; each feature's errors are mapped by its own mapper (`http-errors.ts` beside them), and
 * each function passes the mappers of the errors it can throw (the dashboard's passes none).
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

/** The HTTP error a thrown error maps to: the first mapper's that knows it. Unknown errors are 500 with a generic message. */
export function toHttpError(error: unknown, mappers: readonly ErrorMapper[] = []): ExposedError {
  if (error instanceof HttpError) return exposed(error.statusCode, error.message);
  for (const map of mappers) {
    const mapped = map(error);
    if (mapped !== undefined) return mapped;
  }
  return exposed(500, 'Internal error');
}

/** Wraps a handler in the shared stack: request logging context, error mapping, error replies. */
export function httpStack(handler: HttpHandler, ...mappers: ErrorMapper[]) {
  return middy<HttpEvent, APIGatewayProxyResult>()
    .use(httpErrorHandler({ logger: false }))
    .use({
      before: (request) => {
        logger.addContext(request.context);
      },
      onError: (request) => {
        const mapped = toHttpError(request.error, mappers);
        const log = mapped.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
        // The error's own message never holds tokens, signatures or full numbers.
        log('Request refused', { statusCode: mapped.statusCode, error: request.error });
        request.error = mapped;
      },
    })
    .handler(handler);
}
