/**
 * Who may use the operator API: people signed in with the stack's Cognito user pool, and
 * machines with an API key. `USER_POOL_ID` and `USER_POOL_CLIENT_ID` name the pool and the
 * dashboard's app client; `COGNITO_ENDPOINT` is set only where Cognito is not AWS's (locally).
 * `PEOPLE_API_KEY` is the API Gateway key of the people's usage plan: not a secret (the page
 * gets it from `GET /auth/config`), it identifies the dashboard for throttling; a request with
 * it must carry a person's token.
 */
import { ConfigError, type Env, optional } from '../platform/config.js';

export interface AuthConfig {
  region: string;
  userPoolId: string;
  clientId: string;
  /** The Cognito API where it is not AWS's (`npm start`); undefined in AWS. */
  endpoint: string | undefined;
  /** The people's API key (public): with it, a token is required. */
  peopleApiKey: string | undefined;
}

const POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;

/** The auth configuration, or undefined when no user pool is configured (people cannot sign in). */
export function readAuthConfig(env: Env): AuthConfig | undefined {
  const userPoolId = optional(env, 'USER_POOL_ID');
  const clientId = optional(env, 'USER_POOL_CLIENT_ID');
  if (userPoolId === undefined && clientId === undefined) return undefined;
  if (userPoolId === undefined || !POOL_ID.test(userPoolId))
    throw new ConfigError(`USER_POOL_ID must be a Cognito user pool id (<region>_<id>), got "${userPoolId ?? ''}"`);
  if (clientId === undefined || !/^[\w+]{1,128}$/.test(clientId))
    throw new ConfigError(`USER_POOL_CLIENT_ID must be the pool's app client id, got "${clientId ?? ''}"`);
  const endpoint = optional(env, 'COGNITO_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
    throw new ConfigError(`COGNITO_ENDPOINT must be a URL, got "${endpoint}"`);
  return {
    region: userPoolId.split('_')[0] ?? '',
    userPoolId,
    clientId,
    endpoint: endpoint?.replace(/\/+$/, ''),
    peopleApiKey: optional(env, 'PEOPLE_API_KEY'),
  };
}
