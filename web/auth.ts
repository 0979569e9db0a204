/**
 * Signing people in from the page, directly against Amazon Cognito's API (its JSON protocol:
 * `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`; no SDK, no AWS
 * credentials: the app client is public): `InitiateAuth` with `USER_PASSWORD_AUTH`, the
 * `NEW_PASSWORD_REQUIRED` challenge of a first sign-in, `REFRESH_TOKEN_AUTH`, `GlobalSignOut`.
 * `GET /auth/config` says where (`endpoint` only where Cognito is not AWS's, i.e. locally).
 * The tokens stay in this tab's sessionStorage until sign-out or the tab closes.
 */

export interface AuthConfig {
  region: string;
  userPoolId: string;
  clientId: string;
  endpoint?: string;
  /** The people's API key (public): sent as `x-api-key` with the token. */
  apiKey?: string;
}

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** When the ID token expires (epoch ms). */
  expiresAt: number;
}

/** Who signed in, as their ID token says (never sent anywhere but Authorization). */
export interface Person {
  /** Their id (the token's `sub`), as `GET /users` lists them. */
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'agent' | undefined;
  /** Their profile's phone (`phone_number`), the default for "Call back". */
  phone?: string;
}

/** Cognito refused: its type (`NotAuthorizedException`, …) and a message for people. */
export class SignInError extends Error {
  override name = 'SignInError';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type SignInResult = { tokens: Tokens } | { newPasswordFor: { email: string; session: string } };

const endpointOf = (config: AuthConfig): string => config.endpoint ?? `https://cognito-idp.${config.region}.amazonaws.com/`;

/** The page's messages for Cognito's refusals; anything else says Cognito's own message. */
function plain(type: string, message: string): string {
  if (type === 'NotAuthorizedException' && /disabled/i.test(message)) return 'This account is disabled: ask an admin.';
  if (type === 'NotAuthorizedException' || type === 'UserNotFoundException') return 'Wrong e-mail or password.';
  if (type === 'InvalidPasswordException')
    return `That password is not strong enough: ${message.replace(/^Password does not conform to policy: /, '')}`;
  if (type === 'PasswordResetRequiredException') return 'An admin reset your password: use the temporary one you were sent.';
  if (type === 'TooManyRequestsException' || type === 'LimitExceededException') return 'Too many attempts: wait a minute.';
  return message || type;
}

async function cognito<T>(config: AuthConfig, action: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(endpointOf(config), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new SignInError('Unreachable', 'The sign-in service could not be reached. Retry.');
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const type =
      String(json.__type ?? json.code ?? `HTTP ${response.status}`)
        .split('#')
        .at(-1) ?? '';
    throw new SignInError(type, plain(type, String(json.message ?? json.Message ?? '')));
  }
  return json as T;
}

interface AuthResult {
  AuthenticationResult?: { IdToken: string; AccessToken: string; RefreshToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
  Session?: string;
}

function tokensOf(result: AuthResult, refreshToken?: string): Tokens {
  const r = result.AuthenticationResult;
  if (r === undefined) throw new SignInError('NoTokens', 'Sign-in did not finish. Retry.');
  return {
    idToken: r.IdToken,
    accessToken: r.AccessToken,
    refreshToken: r.RefreshToken ?? refreshToken ?? '',
    expiresAt: Date.now() + (r.ExpiresIn ?? 3600) * 1000,
  };
}

export async function signIn(config: AuthConfig, email: string, password: string): Promise<SignInResult> {
  const result = await cognito<AuthResult>(config, 'InitiateAuth', {
    ClientId: config.clientId,
    AuthFlow: 'USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (result.ChallengeName === 'NEW_PASSWORD_REQUIRED') return { newPasswordFor: { email, session: result.Session ?? '' } };
  if (result.ChallengeName !== undefined)
    throw new SignInError(result.ChallengeName, `This page cannot answer ${result.ChallengeName} yet.`);
  return { tokens: tokensOf(result) };
}

/** A first sign-in: the temporary password replaced. */
export async function setNewPassword(config: AuthConfig, challenge: { email: string; session: string }, password: string): Promise<Tokens> {
  const result = await cognito<AuthResult>(config, 'RespondToAuthChallenge', {
    ClientId: config.clientId,
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.email, NEW_PASSWORD: password },
  });
  return tokensOf(result);
}

export async function refresh(config: AuthConfig, tokens: Tokens): Promise<Tokens> {
  const result = await cognito<AuthResult>(config, 'InitiateAuth', {
    ClientId: config.clientId,
    AuthFlow: 'REFRESH_TOKEN_AUTH',
    AuthParameters: { REFRESH_TOKEN: tokens.refreshToken },
  });
  return tokensOf(result, tokens.refreshToken);
}

/** Signs out everywhere (the refresh tokens revoked); the page forgets the tokens whatever Cognito says. */
export async function signOut(config: AuthConfig, tokens: Tokens): Promise<void> {
  await cognito(config, 'GlobalSignOut', { AccessToken: tokens.accessToken }).catch(() => {});
}

/** The person an ID token names (its payload read, not verified: the operator API verifies it). */
export function personOf(idToken: string): Person {
  try {
    const payload = JSON.parse(atob((idToken.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const groups = Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'] : [];
    const email = typeof payload.email === 'string' ? payload.email : '';
    return {
      id: typeof payload.sub === 'string' ? payload.sub : '',
      name: typeof payload.name === 'string' && payload.name !== '' ? payload.name : email,
      email,
      role: groups.includes('admin') ? 'admin' : groups.includes('agent') ? 'agent' : undefined,
      ...(typeof payload.phone_number === 'string' ? { phone: payload.phone_number } : {}),
    };
  } catch {
    return { id: '', name: '', email: '', role: undefined };
  }
}

const STORAGE = 'mcl.tokens';
export const loadTokens = (): Tokens | undefined => {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE) ?? 'null') as Tokens | null;
    return value !== null && typeof value.idToken === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
};
/** Something is kept under the tokens' name (readable or not): a session this tab had. */
export const tokensKept = (): boolean => sessionStorage.getItem(STORAGE) !== null;
export const saveTokens = (tokens: Tokens | undefined): void =>
  tokens === undefined ? sessionStorage.removeItem(STORAGE) : sessionStorage.setItem(STORAGE, JSON.stringify(tokens));
