/**
 * The operator dashboard's page: `GET /` (the HTML shell) and `GET /dashboard/{file}` (its
 * content-hashed script and stylesheet), from the same API Gateway origin as the operator API, so
 * the page's requests need no CORS. Neither route needs the API key: the page holds no data and
 * asks the operator for the key, which only its API requests carry.
 */
import { HttpError, type HttpRequest } from '../platform/request.js';

export interface DashboardAsset {
  name: string;
  contentType: string;
  body: string;
}

export interface DashboardConfig {
  /** ISO 3166 country whose numbers the page shows in national format. */
  defaultCountry: string;
}

/** The page loads only what the stack serves, and talks only to its own origin. */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; media-src blob:; base-uri 'self'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

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
