/**
 * A local Amazon Cognito user pool for `npm start` and the tests: moto's server (`moto_server`,
 * on this machine's Python), chosen over `cognito-local` by trying the calls this project makes
 * (docs/LOCAL.md): it refuses a disabled user's sign-in, checks temporary passwords and the
 * password policy, answers `NEW_PASSWORD_REQUIRED` with a refresh token that works, supports
 * `AdminUserGlobalSignOut`, and issues tokens with Cognito's own issuer
 * (`https://cognito-idp.<region>.amazonaws.com/<poolId>`), so the operator verifies them with the
 * same `CognitoJwtVerifier` as in AWS, the JWKS fetched from here (lib/auth/verify.ts).
 *
 * Its state is in memory: each start creates the pool as serverless.yml defines it (email as
 * username, the groups `admin` and `agent`, an app client without secret), and the first admin.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';

export const ROLES_GROUPS = ['admin', 'agent'] as const;

/** The pool's password policy, as serverless.yml's `UserPool` sets it. */
export const PASSWORD_POLICY = {
  MinimumLength: 12,
  RequireLowercase: true,
  RequireUppercase: true,
  RequireNumbers: true,
  RequireSymbols: false,
  TemporaryPasswordValidityDays: 7,
};

export interface LocalCognito {
  /** The Cognito API endpoint (`COGNITO_ENDPOINT`). */
  endpoint: string;
  region: string;
  userPoolId: string;
  clientId: string;
  client: CognitoIdentityProviderClient;
  /** Creates a person (their e-mail is their username), in a group, with a permanent password unless `temporary`. */
  createPerson(person: { email: string; name: string; role: 'admin' | 'agent'; password: string; temporary?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

async function ready(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): is moto installed (pip's moto[server])?`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startLocalCognito(
  options: { port?: number; region?: string; poolName?: string; admin?: { email: string; password: string; name?: string } } = {},
): Promise<LocalCognito> {
  const region = options.region ?? 'us-east-1';
  // Port 0 unless told: moto binds a port of its own choosing and says which. (A port found free
  // here and bound later could be taken in between, e.g. by another stack's DynamoDB Local, which
  // binds seconds after it is chosen; and moto speaks DynamoDB too, so such a mix-up is silent.)
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(options.port ?? 0)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The same pool and client ids for the same names on every start.
    env: { ...process.env, MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY: 'HASH', MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY: 'HASH' },
  });
  // Whatever ends this process ends moto with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const port = await new Promise<number>((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error(`moto_server did not say its port within 30 s: ${said.slice(-500)}`)), 30_000);
    const listen = (chunk: Buffer) => {
      said += chunk.toString();
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(said);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', listen);
    child.stderr?.on('data', listen);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`moto_server could not start (is moto installed: pip's moto[server]?): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${code}): ${said.slice(-500)}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  // Its request log is not ours to print.
  child.stdout?.resume();
  child.stderr?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  try {
    await ready(`${endpoint}/moto-api/`, child, 30_000);
    const client = new CognitoIdentityProviderClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const pool = await client.send(
      new CreateUserPoolCommand({
        PoolName: options.poolName ?? 'missed-call-ledger-local',
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        Policies: { PasswordPolicy: PASSWORD_POLICY },
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      }),
    );
    const userPoolId = pool.UserPool?.Id ?? '';
    const app = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: 'dashboard',
        GenerateSecret: false,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        ReadAttributes: ['email', 'name', 'phone_number'],
        PreventUserExistenceErrors: 'ENABLED',
        EnableTokenRevocation: true,
      }),
    );
    const clientId = app.UserPoolClient?.ClientId ?? '';
    for (const group of ROLES_GROUPS) await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
    const createPerson: LocalCognito['createPerson'] = async ({ email, name, role, password, temporary }) => {
      const created = await client.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: email,
          MessageAction: 'SUPPRESS',
          TemporaryPassword: temporary ? password : undefined,
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: 'name', Value: name },
          ],
        }),
      );
      if (!temporary)
        await client.send(
          new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }),
        );
      await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: email, GroupName: role }));
      return created.User?.Attributes?.find((a) => a.Name === 'sub')?.Value ?? '';
    };
    if (options.admin !== undefined) {
      await createPerson({ ...options.admin, name: options.admin.name ?? 'Local admin', role: 'admin' });
    }
    return { endpoint, region, userPoolId, clientId, client, createPerson, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Signs a person in with their password, as the page does (Cognito's JSON API, no AWS credentials). */
export async function signInWithPassword(
  pool: { endpoint: string; clientId: string },
  email: string,
  password: string,
): Promise<{ idToken: string; accessToken: string }> {
  const response = await fetch(pool.endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const body = (await response.json()) as { AuthenticationResult?: { IdToken?: string; AccessToken?: string } };
  const idToken = body.AuthenticationResult?.IdToken;
  const accessToken = body.AuthenticationResult?.AccessToken;
  if (!response.ok || idToken === undefined || accessToken === undefined) throw new Error(`sign-in refused (${response.status})`);
  return { idToken, accessToken };
}
