/**
 * The operator dashboard's page: `GET /` (the HTML shell), `GET /dashboard/{file}` (its
 * content-hashed script and stylesheet) and `GET /auth/config` (where people sign in), from the
 * same API Gateway origin as the operator API, so the page's requests need no CORS. None needs a
 * key or a token: the page holds no data; only its API requests carry them.
 */
import type { AuthConfig } from '../auth/config.js';
import { HttpError, type HttpRequest } from '../platform/request.js';

export interface DashboardAsset {
  name: string;
  contentType: string;
  body: string;
}

export interface DashboardConfig {
  /** ISO 3166 country whose numbers the page shows in national format. */
  defaultCountry: string;
  /** Where people sign in (`GET /auth/config`); undefined when the stack has no user pool. */
  auth?: AuthConfig;
}

/** `GET /auth/config`: what the page needs to sign people in; `endpoint` only where Cognito is not AWS's. */
export function authConfigBody(auth: AuthConfig): Record<string, string> {
  return {
    region: auth.region,
    userPoolId: auth.userPoolId,
    clientId: auth.clientId,
    ...(auth.endpoint === undefined ? {} : { endpoint: auth.endpoint }),
    ...(auth.peopleApiKey === undefined ? {} : { apiKey: auth.peopleApiKey }),
  };
}

/** The page loads only what the stack serves, and talks only to its own origin and, to sign people in, Cognito's. */
function securityHeaders(auth: AuthConfig | undefined): Record<string, string> {
  const cognito = auth === undefined ? '' : ` ${new URL(auth.endpoint ?? `https://cognito-idp.${auth.region}.amazonaws.com`).origin}`;
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'${cognito}; img-src 'self' data:; media-src blob:; base-uri 'self'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

const escapeAttribute = (value: string): string =>
  value.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

/**
 * The path the page was called at, as the base of its relative URLs: `/prod/` on an execute-api
 * host (the stage), the base path on a custom domain, `/` locally. Anything unexpected is `/`.
 */
export function basePath(requestUrl: string | undefined): string {
  if (requestUrl === undefined) return '/';
  let path: string;
  try {
    path = new URL(requestUrl).pathname;
  } catch {
    return '/';
  }
  if (!/^[A-Za-z0-9/_.~-]*$/.test(path) || path.includes('//') || path.includes('..')) return '/';
  return path.endsWith('/') ? path : `${path}/`;
}

export function createDashboard(assets: readonly DashboardAsset[], config: DashboardConfig) {
  const shell = assets.find((asset) => asset.name === 'index.html');
  if (shell === undefined) throw new Error('the dashboard assets have no index.html');
  if (!/^[A-Z]{2}$/.test(config.defaultCountry)) throw new Error('DEFAULT_COUNTRY must be two capital letters (ISO 3166)');
  const files = new Map(assets.filter((asset) => asset !== shell).map((asset) => [asset.name, asset]));
  const SECURITY_HEADERS = securityHeaders(config.auth);

  return (request: HttpRequest) => {
    if (request.method !== 'GET') throw new HttpError(405, `${request.route} accepts GET only`);
    if (request.route === '/') {
      const html = shell.body
        .replace('%BASE%', escapeAttribute(basePath(request.requestUrl)))
        .replace('%COUNTRY%', escapeAttribute(config.defaultCountry));
      return {
        statusCode: 200,
        headers: { 'Content-Type': shell.contentType, 'Cache-Control': 'no-cache', ...SECURITY_HEADERS },
        body: html,
      };
    }
    if (request.route === '/auth/config') {
      if (config.auth === undefined) throw new HttpError(404, 'Sign-in is not configured on this stack');
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache', ...SECURITY_HEADERS },
        body: JSON.stringify(authConfigBody(config.auth)),
      };
    }
    if (request.route === '/dashboard/{file}') {
      const asset = files.get(request.pathParameters.file ?? '');
      if (asset === undefined) throw new HttpError(404, 'No such dashboard file');
      // Their names change with their content: a browser may keep them for a year.
      return {
        statusCode: 200,
        headers: { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=31536000, immutable', ...SECURITY_HEADERS },
        body: asset.body,
      };
    }
    throw new HttpError(404, `No route ${request.route.slice(0, 80)}`);
  };
}
