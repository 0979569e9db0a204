import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { basePath, createDashboard, type DashboardAsset } from '../../lib/dashboard/serve.js';
import { HttpError, type HttpRequest } from '../../lib/platform/request.js';
import { createApi, KeyRefusedError, RequestRefusedError, UnavailableError } from '../../web/api.js';
import { niceMax } from '../../web/chart.js';
import { formatDuration, formatPhone, formatTime, lastDays, percent } from '../../web/format.js';

const build: typeof import('../../web/build.cjs') = createRequire(import.meta.url)('../../web/build.cjs');

const ASSETS: DashboardAsset[] = [
  { name: 'index.html', contentType: 'text/html; charset=utf-8', body: '<base href="%BASE%"><meta content="%COUNTRY%">' },
  { name: 'app-ABC.js', contentType: 'text/javascript; charset=utf-8', body: 'console.log(1)' },
];

const request = (route: string, overrides: Partial<HttpRequest> = {}): HttpRequest => ({
  route,
  method: 'GET',
  headers: {},
  body: '',
  query: '',
  pathParameters: {},
  requestUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  ...overrides,
});

describe('the dashboard function', () => {
  const serve = createDashboard(ASSETS, { defaultCountry: 'GB' });

  it('serves the page with its base (the stage path) and country filled in, uncached, behind a same-origin CSP', () => {
    const page = serve(request('/'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe('<base href="/prod/"><meta content="GB">');
    expect(page.headers['Cache-Control']).toBe('no-cache');
    expect((page.headers as Record<string, string>)['Content-Security-Policy']).toContain("default-src 'none'; script-src 'self'");
  });

  it('tells the page where people sign in (GET /auth/config), and lets it talk to that Cognito origin only', () => {
    const auth = {
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_Abc123',
      clientId: 'client1',
      endpoint: undefined,
      peopleApiKey: 'people-k',
    };
    const withPool = createDashboard(ASSETS, { defaultCountry: 'GB', auth });
    const config = withPool(request('/auth/config'));
    expect(JSON.parse(config.body)).toEqual({
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_Abc123',
      clientId: 'client1',
      apiKey: 'people-k',
    });
    const csp = (withPool(request('/')).headers as Record<string, string>)['Content-Security-Policy'];
    expect(csp).toContain("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;");
    const local = createDashboard(ASSETS, { defaultCountry: 'GB', auth: { ...auth, endpoint: 'http://127.0.0.1:5000' } });
    expect(JSON.parse(local(request('/auth/config')).body).endpoint).toBe('http://127.0.0.1:5000');
    expect((local(request('/')).headers as Record<string, string>)['Content-Security-Policy']).toContain(
      "connect-src 'self' http://127.0.0.1:5000;",
    );
    // A stack without a pool: 404, and the page keeps to the API key.
    expect(() => serve(request('/auth/config'))).toThrow('Sign-in is not configured on this stack');
  });

  it('serves a hashed asset for a year, and 404/405 for anything else', () => {
    const asset = serve(request('/dashboard/{file}', { pathParameters: { file: 'app-ABC.js' } }));
    expect(asset).toMatchObject({ statusCode: 200, body: 'console.log(1)' });
    expect(asset.headers['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(() => serve(request('/dashboard/{file}', { pathParameters: { file: 'index.html' } }))).toThrow(
      expect.objectContaining({ statusCode: 404 }),
    );
    expect(() => serve(request('/dashboard/{file}', { pathParameters: { file: 'app-OLD.js' } }))).toThrow(HttpError);
    expect(() => serve(request('/', { method: 'POST' }))).toThrow(expect.objectContaining({ statusCode: 405 }));
  });

  it('takes the base from the path called: stage, custom-domain base path, root; anything odd is /', () => {
    expect(basePath('https://x.execute-api.us-east-1.amazonaws.com/prod/')).toBe('/prod/');
    expect(basePath('https://ops.example.com/ledger?x=1')).toBe('/ledger/');
    expect(basePath('http://127.0.0.1:3000/')).toBe('/');
    expect(basePath(undefined)).toBe('/');
    expect(basePath('https://x.example.com/a"><script>')).toBe('/');
    expect(basePath('https://x.example.com//evil.example/')).toBe('/');
  });

  it('refuses a country that is not two capital letters at cold start', () => {
    expect(() => createDashboard(ASSETS, { defaultCountry: 'usa' })).toThrow('DEFAULT_COUNTRY');
  });
});

describe('the built page', () => {
  it('fits its budget gzipped, names its hashed assets, and loads nothing from another origin', async () => {
    const esbuild = await import('esbuild');
    const assets = await build.buildDashboard(esbuild);
    const sizes = build.assetSizes(assets);
    expect(sizes.map((s) => s.name)).toEqual([
      'index.html',
      expect.stringMatching(/^app-\w+\.js$/),
      expect.stringMatching(/^app-\w+\.css$/),
    ]);
    expect(sizes.reduce((sum, s) => sum + s.gzipBytes, 0)).toBeLessThanOrEqual(build.BUDGET_GZIP_BYTES);
    const [html, js, css] = assets.map((a) => a.body);
    expect(html).toContain(`src="dashboard/${sizes[1]?.name}"`);
    expect(html).toContain(`href="dashboard/${sizes[2]?.name}"`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(css).not.toMatch(/url\(|@import/);
    expect(js).not.toMatch(/import\s*\(?\s*["']https?:/);
  });
});

describe('the page: formats', () => {
  it('writes the default country nationally, others internationally, and leaves what is not a number alone', () => {
    expect(formatPhone('+14155550123', 'US')).toBe('(415) 555-0123');
    expect(formatPhone('+442071838750', 'US')).toBe('+44 20 7183 8750');
    expect(formatPhone('+442071838750', 'GB')).toBe('020 7183 8750');
    expect(formatPhone('client:alice', 'US')).toBe('client:alice');
  });

  it('writes durations as people say them', () => {
    expect([0, 59, 60, 3599, 3600, 3660, 7200, 48 * 3600, 49 * 3600].map(formatDuration)).toEqual([
      '0 s',
      '59 s',
      '1 min',
      '59 min',
      '1 h',
      '1 h 1 min',
      '2 h',
      '2 d',
      '2 d 1 h',
    ]);
  });

  it('shows only the time for today, the date too otherwise; an unreadable time as given', () => {
    const now = new Date();
    expect(formatTime(now.toISOString(), now)).not.toMatch(/\d{4}|[A-Z][a-z]{2} \d/);
    expect(formatTime('2020-01-15T12:00:00Z', now)).toMatch(/Jan/);
    expect(formatTime('yesterday', now)).toBe('yesterday');
  });

  it('takes ranges as UTC days to today, and percentages of nothing as a dash', () => {
    expect(lastDays(1, new Date('2026-12-02T23:30:00-05:00'))).toEqual({ from: '2026-12-03', to: '2026-12-03' });
    expect(lastDays(7, new Date('2026-03-02T10:00:00Z'))).toEqual({ from: '2026-02-24', to: '2026-03-02' });
    expect(percent(1, 3)).toBe('33 %');
    expect(percent(0, 0)).toBe('–');
  });

  it('scales charts to 1, 2 or 5 × 10^k', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 45, 99, 101, 2_400].map(niceMax)).toEqual([1, 1, 2, 5, 10, 10, 20, 50, 100, 200, 5_000]);
  });
});

describe('the page: the API client', () => {
  const answering = (status: number, body: unknown = { message: 'nope' }) =>
    (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;

  it('sends the key, relative to the page, and returns the body', async () => {
    let seen: { url: string; key: string | null } | undefined;
    const api = createApi({ key: 'k-1' }, async (input, init) => {
      seen = { url: String(input), key: new Headers(init?.headers).get('x-api-key') };
      return new Response('{"items":[]}', { status: 200 });
    });
    expect(await api.get('callbacks?limit=5')).toEqual({ items: [] });
    expect(seen).toEqual({ url: 'callbacks?limit=5', key: 'k-1' });
  });

  it("sends a person's token with the people's key; a 401 is an expired sign-in, a 403 the API's own refusal", async () => {
    let seen: { key: string | null; authorization: string | null } | undefined;
    const credentials = { apiKey: 'people-key', token: async () => 'a.b.c' };
    const api = createApi(credentials, async (_input, init) => {
      const headers = new Headers(init?.headers);
      seen = { key: headers.get('x-api-key'), authorization: headers.get('authorization') };
      return new Response('{}', { status: 200 });
    });
    await api.get('stats');
    expect(seen).toEqual({ key: 'people-key', authorization: 'Bearer a.b.c' });
    await expect(createApi(credentials, answering(401)).get('stats')).rejects.toThrow('Your sign-in has expired');
    const forbidden = createApi(credentials, answering(403, { message: 'Only an admin may do this' })).get('stats');
    await expect(forbidden).rejects.toBeInstanceOf(RequestRefusedError);
    await expect(forbidden).rejects.toThrow('Only an admin may do this');
  });

  it('says a refused key, an outage or a throttle, and a refused request each in their own words', async () => {
    await expect(createApi({ key: 'k' }, answering(403, { message: 'Forbidden' })).get('stats')).rejects.toBeInstanceOf(KeyRefusedError);
    await expect(createApi({ key: 'k' }, answering(500)).get('stats')).rejects.toBeInstanceOf(UnavailableError);
    await expect(createApi({ key: 'k' }, answering(429)).get('stats')).rejects.toThrow('Too many requests');
    await expect(
      createApi({ key: 'k' }, async () => {
        throw new TypeError('Failed to fetch');
      }).get('stats'),
    ).rejects.toThrow('The ledger could not be reached');
    const refused = createApi({ key: 'k' }, answering(404, { message: 'No open callback for this number' })).post(
      'callbacks/x/resolve',
      undefined,
    );
    await expect(refused).rejects.toBeInstanceOf(RequestRefusedError);
    await expect(refused).rejects.toThrow('No open callback for this number');
  });

  it("reads GET /health's 503 as the report it is", async () => {
    const report = { status: 'fail', checks: {} };
    expect(await createApi({ key: 'k' }, answering(503, report)).get('health')).toEqual(report);
    await expect(createApi({ key: 'k' }, answering(503)).get('stats')).rejects.toBeInstanceOf(UnavailableError);
  });
});
