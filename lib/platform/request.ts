/**
 * The edge: API Gateway events (REST API v1 and HTTP API v2) turned into one request shape,
 * form bodies parsed strictly, and the URL Twilio signed rebuilt.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

export type HttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * A request refused with a 4xx: `statusCode` says which (400 malformed, 403 not from Twilio or
 * not this account, 404 no such route or resource, 405 wrong method, 413 too large, 415 not a
 * form). The message goes to the client and the log; it never holds a secret or a full number.
 * Nothing is written for a refused request.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: 400 | 403 | 404 | 405 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

export interface HttpRequest {
  /** The route template, e.g. `/twilio/call-status`, without stage or base path. */
  route: string;
  method: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string>>;
  /** The body as text (decoded when API Gateway base64-encoded it). */
  body: string;
  /** The raw query string without `?`, `''` when none. */
  query: string;
  /** Path parameters of the route template (e.g. `{phone}`), decoded. */
  pathParameters: Readonly<Record<string, string>>;
  /** The URL the client called, as far as the event can tell; undefined without a Host. */
  requestUrl: string | undefined;
}

/** Twilio's callbacks are a few hundred bytes; anything this large is not one. */
export const MAX_BODY_BYTES = 64 * 1024;

function isV2(event: HttpEvent): event is APIGatewayProxyEventV2 {
  return 'version' in event && event.version === '2.0';
}

function lowerCaseHeaders(headers: Readonly<Record<string, string | undefined>> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

function decodeBody(raw: unknown, isBase64Encoded: boolean): string {
  if (raw === null || raw === undefined) return '';
  // API Gateway always gives a string; serverless-offline gives a JSON body that is a lone
  // scalar (`false`, `0`) as the value it parsed: its text again.
  const body = typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (!isBase64Encoded) {
    if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
    return body;
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new HttpError(400, 'Request body is not valid base64');
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > MAX_BODY_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'Request body is not valid UTF-8');
  }
}

/** The query's parameters; 400 when one appears more than once (which value would count?). */
export function queryParameters(query: string): URLSearchParams {
  const params = new URLSearchParams(query);
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) throw new HttpError(400, `Query parameter ${name.slice(0, 40)} appears more than once`);
    seen.add(name);
  }
  return params;
}

/** A REST API v1 query string rebuilt from its parsed parameters, in the order API Gateway gives. */
function v1Query(event: APIGatewayProxyEvent): string {
  const multi = event.multiValueQueryStringParameters;
  const single = event.queryStringParameters;
  const pairs: string[] = [];
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
  } else if (single) {
    for (const [name, value] of Object.entries(single)) {
      if (value !== undefined) pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
  }
  return pairs.join('&');
}

function decodedParams(params: Readonly<Record<string, string | undefined>> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    try {
      out[name] = value.includes('%') ? decodeURIComponent(value) : value;
    } catch {
      throw new HttpError(400, `Path parameter ${name} is not valid percent-encoding`);
    }
  }
  return out;
}

function withQuery(url: string, query: string): string {
  return query === '' ? url : `${url}?${query}`;
}

/** Normalizes an API Gateway event (v1 or v2) into {@link HttpRequest}. */
export function toHttpRequest(event: HttpEvent): HttpRequest {
  const headers = lowerCaseHeaders(event.headers);
  const body = decodeBody(event.body, event.isBase64Encoded ?? false);
  const proto = headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'https';
  if (isV2(event)) {
    const [method = event.requestContext.http.method, route = event.rawPath] = event.routeKey.split(' ');
    const host = headers.host ?? event.requestContext.domainName;
    const query = event.rawQueryString ?? '';
    return {
      route,
      method: method.toUpperCase(),
      headers,
      body,
      query,
      pathParameters: decodedParams(event.pathParameters),
      requestUrl: host ? withQuery(`${proto}://${host}${event.rawPath}`, query) : undefined,
    };
  }
  const host = headers.host;
  const query = v1Query(event);
  // requestContext.path carries the stage (execute-api host) or the base path (custom domain).
  const path = event.requestContext?.path ?? event.path;
  return {
    route: event.resource,
    method: event.httpMethod.toUpperCase(),
    headers,
    body,
    query,
    pathParameters: decodedParams(event.pathParameters),
    requestUrl: host ? withQuery(`${proto}://${host}${path}`, query) : undefined,
  };
}

/**
 * The URL Twilio signed: the configured public base URL plus the route (and query), or,
 * where no base URL is configured, the URL rebuilt from the request.
 */
export function signedUrl(request: HttpRequest, publicBaseUrl: string | undefined): string | undefined {
  if (publicBaseUrl !== undefined) return withQuery(`${publicBaseUrl}${request.route}`, request.query);
  return request.requestUrl;
}

/**
 * Parses an `application/x-www-form-urlencoded` body into single-valued parameters.
 * @throws HttpError 415 for another content type, 400 for a repeated parameter.
 */
export function parseForm(request: HttpRequest): Record<string, string> {
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'Content-Type must be application/x-www-form-urlencoded');
  }
  // A Map, not an object literal: a parameter named `__proto__` must stay a parameter.
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(request.body)) {
    if (params.has(name)) throw new HttpError(400, `Form parameter ${name.slice(0, 40)} appears more than once`);
    params.set(name, value);
  }
  return Object.fromEntries(params);
}

/**
 * A JSON body's value: 415 unless the Content-Type is application/json, 400 when it is not JSON.
 * An empty body is undefined.
 */
export function parseJsonBody(request: Pick<HttpRequest, 'body' | 'headers'>): unknown {
  if (request.body.trim() === '') return undefined;
  if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json')
    throw new HttpError(415, 'Content-Type must be application/json');
  try {
    return JSON.parse(request.body);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
