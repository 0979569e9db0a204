/**
 * Who is calling the operator API, and what they may do. A person proves who they are with a
 * Cognito token (`Authorization: Bearer <id or access token>`) verified with AWS's
 * `aws-jwt-verify` against the pool's JWKS (issuer, client, token use, expiry, signature); their
 * role is their group (`admin` or `agent`). A machine (a script, a CRM) sends an API key that API
 * Gateway checked against its usage plan: it may work the worklist like an agent, never manage
 * people or erase (a leaked script key must not mint admins).
 *
 * Tokens go in the Authorization header only: one in a query string is refused (query strings
 * end up in access logs and browser history).
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { CognitoJwtPayload } from 'aws-jwt-verify/jwt-model';
import type { Actor } from '../callbacks/model.js';
import type { HttpRequest } from '../platform/request.js';
import type { AuthConfig } from './config.js';

export const ROLES = ['agent', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A person signed in: their Cognito `sub`, their name (never their e-mail in logs), their role. */
export interface Person {
  kind: 'person';
  id: string;
  name: string;
  role: Role;
}
export interface Machine {
  kind: 'machine';
}
export type Caller = Person | Machine;

/** 401: who is calling could not be told. `WWW-Authenticate` says how to authenticate. */
export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
}
/** 403: known, but not allowed this. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

const QUERY_TOKENS = ['access_token', 'id_token', 'token', 'authorization'];

export type VerifyToken = (token: string) => Promise<CognitoJwtPayload>;

/**
 * A verifier of the pool's ID and access tokens for the dashboard's client. Where Cognito is not
 * AWS's (`COGNITO_ENDPOINT`), the JWKS is fetched from there (its tokens carry AWS's issuer).
 */
export function tokenVerifier(config: AuthConfig): VerifyToken {
  const local = config.endpoint;
  const jwksCache =
    local === undefined
      ? undefined
      : new SimpleJwksCache({
          fetcher: {
            fetch: async (uri: string) => {
              const response = await fetch(uri.replace(/^https:\/\/cognito-idp\.[^/]+\.amazonaws\.com/, local));
              if (!response.ok) throw new Error(`JWKS ${response.status}`);
              return response.arrayBuffer();
            },
          },
        });
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: config.userPoolId, clientId: config.clientId, tokenUse: null },
    jwksCache === undefined ? undefined : { jwksCache },
  );
  return (token) => verifier.verify(token);
}

/** The role a token's groups give: admin over agent; undefined with neither. */
export function roleOf(groups: unknown): Role | undefined {
  const list = Array.isArray(groups) ? groups : [];
  if (list.includes('admin')) return 'admin';
  if (list.includes('agent')) return 'agent';
  return undefined;
}

/** What telling who calls needs: the pool (undefined: nobody signs in here), its verifier, and people's standing. */
export interface CallerAuth {
  config: AuthConfig | undefined;
  verify: VerifyToken | undefined;
  /** What admins last decided about a person (lib/auth/standing.ts): it wins over the token. */
  standing?: (sub: string) => Promise<{ role?: Role; disabled: boolean } | undefined>;
}

/**
 * Who is calling. A token when there is one (whatever key came with it); otherwise the machine
 * key API Gateway checked, unless it is the people's key (which needs a token).
 * @throws UnauthenticatedError (401) or ForbiddenError (403: a valid token without a role).
 */
export async function identify(request: Pick<HttpRequest, 'headers' | 'query'>, auth: CallerAuth): Promise<Caller> {
  const query = new URLSearchParams(request.query);
  if (QUERY_TOKENS.some((name) => query.has(name)))
    throw new UnauthenticatedError('A token goes in the Authorization header, never in the URL');
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/.exec(authorization.trim());
    if (match?.[1] === undefined) throw new UnauthenticatedError('Authorization must be "Bearer <token>"');
    if (auth.verify === undefined) throw new UnauthenticatedError('Sign-in is not configured on this stack');
    let payload: CognitoJwtPayload;
    try {
      payload = await auth.verify(match[1]);
    } catch (error) {
      // The verifier's reason (expired, signature, issuer, audience…): logged by its class only.
      throw new UnauthenticatedError('The token is not valid (expired, or not from this stack’s sign-in)', { cause: error });
    }
    const standing = await auth.standing?.(payload.sub);
    if (standing?.disabled) throw new UnauthenticatedError('Your account is disabled: ask an admin');
    const role = standing?.role ?? roleOf(payload['cognito:groups']);
    if (role === undefined) throw new ForbiddenError('Your account has no role here: ask an admin to make you an agent');
    const name = typeof payload.name === 'string' && payload.name !== '' ? payload.name : 'Someone';
    return { kind: 'person', id: payload.sub, name, role };
  }
  const key = request.headers['x-api-key'];
  if (key !== undefined && key !== '' && key !== auth.config?.peopleApiKey) return { kind: 'machine' };
  throw new UnauthenticatedError('Sign in (Authorization: Bearer <token>) or send an API key (x-api-key)');
}

/** What each role may do: `work` the worklist (agents, admins, machines); `manage` people and erase (admins only). */
export type Permission = 'work' | 'manage';

/** @throws ForbiddenError when the caller may not. */
export function requirePermission(caller: Caller, permission: Permission): void {
  if (permission === 'work') return;
  if (caller.kind === 'machine') throw new ForbiddenError('An API key may not do this: sign in as an admin');
  if (caller.role !== 'admin') throw new ForbiddenError('Only an admin may do this');
}

/** Who did something, as kept on what they did: a person's `{id, name}`; a machine's key names nobody. */
export const actorOf = (caller: Caller): { person?: Actor } =>
  caller.kind === 'person' ? { person: { id: caller.id, name: caller.name } } : {};
