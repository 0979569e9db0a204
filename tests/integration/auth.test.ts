/**
 * Who may call the operator function as deployed: people with tokens of the stack's user pool
 * (a local Cognito: moto's server, dev/cognito.ts), verified with aws-jwt-verify against the
 * pool's JWKS, and machines with an API key. Every forgery and misuse a token can suffer is
 * refused with 401; a valid token without a role with 403.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { CreateUserPoolClientCommand, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalCognito, startLocalCognito } from '../../dev/cognito.js';
import { freshTable, MACHINE_API_KEY, v1Event } from '../helpers.js';
import { loadHandler } from '../lambda.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const context = { awsRequestId: 'auth', functionName: 'operator' } as unknown as Context;
const PEOPLE_KEY = 'people-test-dashboard-key';
const PASSWORD = 'Agent-password-2026';

let cognito: LocalCognito;
let other: LocalCognito;
let table: Awaited<ReturnType<typeof freshTable>>;
let handler: Handler;

const signIn = async (pool: LocalCognito, email: string, password = PASSWORD) => {
  const out = await pool.client.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  const result = out.AuthenticationResult;
  if (result?.IdToken === undefined || result.AccessToken === undefined) throw new Error(`no tokens for ${email}`);
  return { id: result.IdToken, access: result.AccessToken };
};

/** A function's auth settings as serverless.yml gives them, pointing at the local pool. */
const authEnv = () => ({
  USER_POOL_ID: cognito.userPoolId,
  USER_POOL_CLIENT_ID: cognito.clientId,
  COGNITO_ENDPOINT: cognito.endpoint,
  PEOPLE_API_KEY: PEOPLE_KEY,
});

beforeAll(async () => {
  [cognito, other, table] = await Promise.all([startLocalCognito(), startLocalCognito({ poolName: 'another-stack' }), freshTable()]);
  await cognito.createPerson({ email: 'ana@example.com', name: 'Ana', role: 'agent', password: PASSWORD });
  await cognito.createPerson({ email: 'ben@example.com', name: 'Ben', role: 'admin', password: PASSWORD });
  await other.createPerson({ email: 'eve@example.com', name: 'Eve', role: 'admin', password: PASSWORD });
  handler = await loadHandler<Handler>('operator', {
    tableName: table.tableName,
    env: authEnv(),
  });
}, 60_000);
afterAll(async () => {
  vi.useRealTimers();
  await Promise.all([cognito?.stop(), other?.stop(), table?.drop()]);
});

/** GET /callbacks as API Gateway hands it on: with this key (the people's by default) and these headers. */
async function list(headers: Record<string, string>, options: { key?: string | null; query?: Record<string, string> } = {}) {
  const event = v1Event({
    resource: '/callbacks',
    params: {},
    body: '',
    apiKey: options.key === undefined ? PEOPLE_KEY : options.key,
    query: options.query,
  });
  const response = await handler({ ...event, httpMethod: 'GET', body: null, headers: { ...event.headers, ...headers } }, context);
  return { status: response.statusCode, body: JSON.parse(response.body), headers: response.headers ?? {} };
}
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    signature,
  };
};

describe('the operator API: people and machines', () => {
  it('lets an agent in with an ID token or an access token of the pool, and a machine with its API key', async () => {
    const ana = await signIn(cognito, 'ana@example.com');
    expect((await list(bearer(ana.id))).status).toBe(200);
    expect((await list(bearer(ana.access))).status).toBe(200);
    expect((await list({}, { key: MACHINE_API_KEY })).status).toBe(200);
  });

  it('refuses with 401 no token, a token in the URL, a malformed header, alg none, HS256 with the public key, a tampered payload, another pool', async () => {
    const ana = await signIn(cognito, 'ana@example.com');
    const refused = async (headers: Record<string, string>, query?: Record<string, string>) => {
      const { status, body, headers: replied } = await list(headers, { query });
      expect({ status, message: typeof body.message }).toEqual({ status: 401, message: 'string' });
      expect(replied['WWW-Authenticate'] ?? replied['www-authenticate']).toMatch(/^Bearer /);
      return body.message as string;
    };
    // The people's key alone is not a credential.
    expect(await refused({})).toBe('Sign in (Authorization: Bearer <token>) or send an API key (x-api-key)');
    expect(await refused({}, { access_token: ana.access })).toBe('A token goes in the Authorization header, never in the URL');
    expect(await refused({ Authorization: `Token ${ana.access}` })).toBe('Authorization must be "Bearer <token>"');
    const { header, payload } = parts(ana.id);
    // alg none, no signature.
    await refused(bearer(`${b64({ ...header, alg: 'none' })}.${b64(payload)}.`));
    // HS256 signed with the pool's own public key (the classic key-confusion forgery).
    const jwks = (await (await fetch(`${cognito.endpoint}/${cognito.userPoolId}/.well-known/jwks.json`)).json()) as { keys: object[] };
    const pem = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${b64({ ...payload, 'cognito:groups': ['admin'] })}`;
    await refused(bearer(`${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`));
    // A valid signature over another payload (an agent made admin).
    const [signedHeader, , signature] = ana.id.split('.');
    await refused(bearer(`${signedHeader}.${b64({ ...payload, 'cognito:groups': ['admin'] })}.${signature}`));
    // Another pool's admin (same emulator key, other issuer and client).
    const eve = await signIn(other, 'eve@example.com');
    await refused(bearer(eve.id));
    await refused(bearer(eve.access));
  });

  it('refuses with 401 the tokens of another app client of the same pool (same issuer and keys, another audience)', async () => {
    const created = await cognito.client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: cognito.userPoolId,
        ClientName: 'some-other-app',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    const clientId = created.UserPoolClient?.ClientId ?? '';
    const ana = await signIn({ ...cognito, clientId }, 'ana@example.com');
    // Signed by the pool's own key: only the audience (ID token) or client_id (access token) differs.
    expect(parts(ana.id).payload.aud).toBe(clientId);
    expect(parts(ana.access).payload.client_id).toBe(clientId);
    expect((await list(bearer(ana.id))).status).toBe(401);
    expect((await list(bearer(ana.access))).status).toBe(401);
  });

  it('refuses an expired token with 401', async () => {
    const ana = await signIn(cognito, 'ana@example.com');
    const { payload } = parts(ana.access);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((payload.exp + 60) * 1000);
    try {
      expect((await list(bearer(ana.access))).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    expect((await list(bearer(ana.access))).status).toBe(200);
  });

  it('refuses a valid token without a role with 403', async () => {
    const ana = await signIn(cognito, 'ana@example.com');
    // Cognito signs what it issues; a person in no group (removed from `agent`) still gets tokens.
    const { AdminRemoveUserFromGroupCommand, AdminAddUserToGroupCommand } = await import('@aws-sdk/client-cognito-identity-provider');
    await cognito.client.send(
      new AdminRemoveUserFromGroupCommand({ UserPoolId: cognito.userPoolId, Username: 'ana@example.com', GroupName: 'agent' }),
    );
    try {
      const none = await signIn(cognito, 'ana@example.com');
      const { status, body } = await list(bearer(none.id));
      expect({ status, body }).toEqual({
        status: 403,
        body: { message: 'Your account has no role here: ask an admin to make you an agent' },
      });
    } finally {
      await cognito.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: cognito.userPoolId, Username: 'ana@example.com', GroupName: 'agent' }),
      );
    }
    expect((await list(bearer(ana.id))).status).toBe(200);
  });

  it('guards the reconciliation’s routes alike: the people’s key alone is 401, a person or a machine may list runs', async () => {
    const reconcile = await loadHandler<Handler>('reconcile', {
      tableName: table.tableName,
      env: authEnv(),
    });
    const runs = async (key: string, headers: Record<string, string> = {}) => {
      const event = v1Event({ resource: '/reconcile/runs', params: {}, body: '', apiKey: key });
      return (await reconcile({ ...event, httpMethod: 'GET', body: null, headers: { ...event.headers, ...headers } }, context)).statusCode;
    };
    const ana = await signIn(cognito, 'ana@example.com');
    expect(await runs(PEOPLE_KEY)).toBe(401);
    expect(await runs(PEOPLE_KEY, bearer(ana.access))).toBe(200);
    expect(await runs(MACHINE_API_KEY)).toBe(200);
  });

  it('lets admins manage people (GET/POST/PATCH /users); agents and machine keys get 403', async () => {
    const ben = await signIn(cognito, 'ben@example.com');
    const ana = await signIn(cognito, 'ana@example.com');
    const users = async (method: string, headers: Record<string, string>, options: { id?: string; body?: unknown; key?: string } = {}) => {
      const resource = options.id === undefined ? '/users' : '/users/{id}';
      const event = v1Event({ resource, params: {}, body: '', apiKey: options.key ?? PEOPLE_KEY, contentType: 'application/json' });
      const response = await handler(
        {
          ...event,
          httpMethod: method,
          body: options.body === undefined ? null : JSON.stringify(options.body),
          headers: { ...event.headers, ...headers },
          pathParameters: options.id === undefined ? null : { id: options.id },
        },
        context,
      );
      return { status: response.statusCode, body: JSON.parse(response.body) };
    };
    expect(await users('GET', bearer(ana.id))).toEqual({ status: 403, body: { message: 'Only an admin may do this' } });
    expect(await users('GET', {}, { key: MACHINE_API_KEY })).toEqual({
      status: 403,
      body: { message: 'An API key may not do this: sign in as an admin' },
    });
    const listed = await users('GET', bearer(ben.id));
    expect(listed.status).toBe(200);
    const byEmail = new Map(listed.body.users.map((u: { email: string }) => [u.email, u]));
    expect(byEmail.get('ana@example.com')).toMatchObject({ name: 'Ana', role: 'agent', enabled: true, status: 'CONFIRMED' });
    expect(byEmail.get('ben@example.com')).toMatchObject({ name: 'Ben', role: 'admin' });
    const anaId = (byEmail.get('ana@example.com') as { id: string }).id;

    // A new agent with a temporary password: their first sign-in must choose their own.
    const created = await users('POST', bearer(ben.id), {
      body: { email: 'Cy@Example.com', name: 'Cy', role: 'agent', phone: '(415) 555-0123', temporaryPassword: 'Temporary-pass-2026' },
    });
    expect(created).toEqual({ status: 400, body: { message: 'phone must be a number in E.164 (+1…)' } });
    const made = await users('POST', bearer(ben.id), {
      body: { email: 'Cy@Example.com', name: 'Cy', role: 'agent', phone: '+14155550123', temporaryPassword: 'Temporary-pass-2026' },
    });
    expect(made).toMatchObject({ status: 201, body: { email: 'cy@example.com', name: 'Cy', role: 'agent', phone: '+14155550123' } });
    const first = await cognito.client.send(
      new InitiateAuthCommand({
        ClientId: cognito.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'cy@example.com', PASSWORD: 'Temporary-pass-2026' },
      }),
    );
    expect(first.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    expect((await users('POST', bearer(ben.id), { body: { email: 'cy@example.com', name: 'Cy', role: 'agent' } })).status).toBe(409);
    expect((await users('POST', bearer(ben.id), { body: { email: 'dee@example.com', name: 'Dee', role: 'owner' } })).body).toEqual({
      message: 'role must be admin or agent',
    });

    // Ana's phone and role; disabled, she cannot sign in (and is signed out everywhere); enabled again.
    expect(await users('PATCH', bearer(ben.id), { id: anaId, body: { phone: '+14155550142', role: 'admin' } })).toMatchObject({
      status: 200,
      body: { id: anaId, phone: '+14155550142', role: 'admin' },
    });
    // Her token from before (groups: agent) acts as what admins decided since, at once.
    expect((await users('GET', bearer(ana.id))).status).toBe(200);
    expect((await users('PATCH', bearer(ben.id), { id: anaId, body: { role: 'agent' } })).body.role).toBe('agent');
    expect((await users('GET', bearer(ana.id))).status).toBe(403);
    expect((await users('PATCH', bearer(ben.id), { id: anaId, body: { disabled: true } })).body.enabled).toBe(false);
    await expect(signIn(cognito, 'ana@example.com')).rejects.toThrow(/disabled/i);
    // Her token, still within its hour, no longer works.
    expect(await list(bearer(ana.access))).toMatchObject({ status: 401, body: { message: 'Your account is disabled: ask an admin' } });
    expect((await users('PATCH', bearer(ben.id), { id: anaId, body: { disabled: false } })).body.enabled).toBe(true);
    expect((await list(bearer(ana.access))).status).toBe(200);
    expect((await signIn(cognito, 'ana@example.com')).id).toMatch(/^ey/);
    expect((await users('PATCH', bearer(ben.id), { id: '00000000-0000-0000-0000-000000000000', body: { role: 'agent' } })).status).toBe(
      404,
    );
  });
});

describe('the operator’s logs', () => {
  it('hold no token, password or e-mail, whatever is refused or done (at DEBUG, more than deployed)', async () => {
    const logged = await loadHandler<Handler>('operator', {
      tableName: table.tableName,
      env: { ...authEnv(), POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    });
    const ben = await signIn(cognito, 'ben@example.com');
    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array) => lines.push(String(chunk)) > 0;
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const send = async (
      method: string,
      resource: string,
      headers: Record<string, string>,
      body?: unknown,
      query?: Record<string, string>,
    ) => {
      const event = v1Event({ resource, params: {}, body: '', apiKey: PEOPLE_KEY, contentType: 'application/json', query });
      return (
        await logged(
          {
            ...event,
            httpMethod: method,
            body: body === undefined ? null : JSON.stringify(body),
            headers: { ...event.headers, ...headers },
          },
          context,
        )
      ).statusCode;
    };
    const forged = `${ben.id.slice(0, -10)}AAAAAAAAAA`;
    const secrets = { password: 'Temporary-pass-2026-logs', email: 'logs.person@example.com' };
    let statuses: number[];
    try {
      statuses = [
        await send('GET', '/callbacks', bearer(forged)),
        await send('GET', '/callbacks', {}, undefined, { access_token: ben.access }),
        await send('POST', '/users', bearer(ben.id), {
          email: secrets.email,
          name: 'Logs',
          role: 'agent',
          temporaryPassword: secrets.password,
        }),
        await send('POST', '/users', bearer(ben.id), {
          email: secrets.email,
          name: 'Logs',
          role: 'agent',
          temporaryPassword: secrets.password,
        }),
        await send('POST', '/users', bearer(ben.id), { email: 'not an e-mail', name: 'Logs', role: 'agent' }),
        await send('GET', '/audit', bearer(ben.access)),
      ];
    } finally {
      vi.restoreAllMocks();
    }
    expect(statuses).toEqual([401, 401, 201, 409, 400, 200]);
    const text = lines.join('');
    // It did log (the refusals and the answers): the check below is not of an empty log.
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of [
      ben.id,
      ben.access,
      forged,
      ben.id.split('.')[2] ?? '',
      ben.access.split('.')[2] ?? '',
      secrets.password,
      secrets.email,
      'ben@example.com',
    ])
      expect(text).not.toContain(secret);
  });
});
