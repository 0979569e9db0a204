/**
 * Verifying people's tokens: in the operator function (as built, issue 30) or in an API Gateway
 * Lambda authorizer with its cache (bench/fixtures/authorizer.ts), measured in the same run:
 *
 * 1. cold start: bundle bytes and module init (fresh Node processes, the builds interleaved,
 *    medians, bench/cold-start.ts `initMs`) of the operator as built, the operator without the
 *    verifier (functions/operator.ts with aws-jwt-verify stubbed out: what it would be behind an
 *    authorizer), the verifier alone (the verifier's share) and the authorizer. A cold request
 *    in the authorizer design pays the authorizer's cold start, then the operator's;
 * 2. per request, with REAL tokens of a local Cognito (moto's server, dev/cognito.ts): the first
 *    verification of a fresh verifier (its JWKS fetch), warm verifications, the standing read
 *    (lib/auth/standing.ts: one consistent GetItem of `PERSON#<sub>` against DynamoDB Local, its
 *    read units from the metering proxy, bench/meter.ts), the operator's whole check
 *    (`identify`: both) and the BUNDLED authorizer's warm invocation (the same work), interleaved;
 * 3. what each design asks per person's request, and what the cache trades: a disabled person's
 *    token keeps passing until its cached answer expires.
 *
 * Every token is checked to pass, and a disabled person's to be refused, by both designs.
 */
import { join } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Plugin } from 'esbuild';
import { type LocalCognito, signInWithPassword, startLocalCognito } from '../dev/cognito.js';
import { createTable } from '../dev/table.js';
import { identify, tokenVerifier } from '../lib/auth/caller.js';
import { type AuthConfig, readAuthConfig } from '../lib/auth/config.js';
import { keepStanding, standingReader } from '../lib/auth/standing.js';
import { createDocumentClient } from '../lib/platform/aws.js';
import { benchEnv, bundle, loadHandler, localClient, median, percentile, root } from './build.js';
import { initMs } from './cold-start.js';
import type { Fresh } from './ingest.js';
import { type MeterReading, startMeter } from './meter.js';

const TABLE = 'bench-authorizer';
const PASSWORD = 'Bench-password-2026';
/** API Gateway's default TTL of a Lambda authorizer's cached answer (seconds; 0 to 3600). */
const DEFAULT_TTL_SECONDS = 300;
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:benchapi/prod/GET/callbacks';

type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

interface Build {
  bytes: number;
  initMedianMs: number;
}

export interface AuthorizerBench {
  coldStart: {
    /** Interleaved init runs of each build. */
    runs: number;
    /** functions/operator.ts as built (it creates the verifier at init). */
    operator: Build;
    /** The same with aws-jwt-verify stubbed out (bench/fixtures/jwt-verify-stub.ts): the operator behind an authorizer. */
    operatorWithoutVerifier: Build;
    /** aws-jwt-verify loaded and the verifier created, nothing else (bench/fixtures/verifier-alone.ts). */
    verifierAlone: Build;
    /** bench/fixtures/authorizer.ts: the verifier and the standing read (the DynamoDB client). */
    authorizer: Build;
    /** Operator − operator without the verifier (ms; within noise when small). */
    verifierShareMs: number;
    /** A cold request: in-function = the operator's init; authorizer design, cache miss = authorizer + operator without the verifier. */
    inFunctionMs: number;
    authorizerDesignMs: number;
    /** Authorizer design ÷ in-function. */
    ratio: number;
  };
  verification: {
    /** People signed in (each an ID and an access token). */
    people: number;
    tokens: number;
    /** A fresh verifier's first verification: the JWKS fetched (from the local pool here). */
    first: { samples: number; medianMs: number; maxMs: number };
    /** Warm verifications (JWKS cached), in microseconds. */
    warm: { samples: number; p50Us: number; p95Us: number };
  };
  standing: {
    samples: number;
    /** The consistent GetItem of PERSON#<sub> (lib/auth/standing.ts) against DynamoDB Local. */
    getItem: { p50Ms: number; p95Ms: number };
    /** Per standing read, metered: a person an admin changed (an item) and one nobody changed (none). */
    perRead: { withItem: MeterReading; withoutItem: MeterReading };
  };
  perRequest: {
    /**
     * The operator's check per person's request (`identify`: verify + standing): the first with a
     * fresh verifier and DynamoDB client (as after a cold start: JWKS, connection), then warm.
     */
    inFunction: { firstMs: number; p50Ms: number; p95Ms: number; dynamo: MeterReading };
    /** The bundled authorizer, invoked in process (no Lambda invoke), first and warm; on a cache hit API Gateway skips it. */
    authorizer: { firstMs: number; p50Ms: number; p95Ms: number; dynamo: MeterReading };
  };
  ratios: {
    /** Warm verification p50 ÷ standing GetItem p50. */
    verifyOverGetItem: number;
    /** Authorizer invocation p50 ÷ the in-function check p50 (the same work). */
    authorizerOverInFunction: number;
    /** Authorizer design cold ÷ in-function cold. */
    coldAuthorizerDesignOverInFunction: number;
  };
  /** What each design asks, per person's request and per token. */
  requests: {
    inFunction: { perRequest: string; staleSeconds: number };
    authorizer: { ttlSeconds: number; perTokenPerTtl: string; onCacheHit: string; staleSeconds: number };
  };
  checks: { everyTokenPassesBoth: boolean; disabledRefusedInFunction: boolean; disabledRefusedByAuthorizer: boolean };
  notMeasured: string[];
}

/** Resolves aws-jwt-verify (and its subpaths) to the stub fixture. */
function jwtVerifyStub(resolved: { count: number }): Plugin {
  const stub = join(root, 'bench/fixtures/jwt-verify-stub.ts');
  return {
    name: 'jwt-verify-stub',
    setup(build) {
      build.onResolve({ filter: /^aws-jwt-verify(\/.*)?$/ }, () => {
        resolved.count += 1;
        return { path: stub };
      });
    },
  };
}

const ms = (x: number) => Number(x.toFixed(2));
const us = (x: number) => Number((x * 1000).toFixed(1));

async function coldStart(
  runs: number,
  env: Record<string, string>,
): Promise<{ cold: AuthorizerBench['coldStart']; authorizerFile: string }> {
  const resolved = { count: 0 };
  const builds = {
    operator: await bundle('functions/operator.ts', 'operator'),
    operatorWithoutVerifier: await bundle('functions/operator.ts', 'operator-without-verifier', { plugins: [jwtVerifyStub(resolved)] }),
    verifierAlone: await bundle('bench/fixtures/verifier-alone.ts', 'verifier-alone'),
    authorizer: await bundle('bench/fixtures/authorizer.ts', 'authorizer'),
  };
  if (resolved.count === 0) throw new Error('functions/operator.ts imported no aws-jwt-verify: nothing stubbed');
  const names = Object.keys(builds) as (keyof typeof builds)[];
  const samples = new Map(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < runs; i++)
    // Each build first in turn, so that an order effect hits all alike.
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length] as keyof typeof builds;
      samples.get(name)?.push(initMs(builds[name].file, env));
    }
  const of = (name: keyof typeof builds): Build => ({
    bytes: builds[name].bytes,
    initMedianMs: ms(median(samples.get(name) ?? [])),
  });
  const operator = of('operator');
  const without = of('operatorWithoutVerifier');
  const authorizer = of('authorizer');
  const authorizerDesignMs = authorizer.initMedianMs + without.initMedianMs;
  const cold = {
    runs,
    operator,
    operatorWithoutVerifier: without,
    verifierAlone: of('verifierAlone'),
    authorizer,
    verifierShareMs: ms(operator.initMedianMs - without.initMedianMs),
    inFunctionMs: operator.initMedianMs,
    authorizerDesignMs: ms(authorizerDesignMs),
    ratio: Number((authorizerDesignMs / operator.initMedianMs).toFixed(2)),
  };
  return { cold, authorizerFile: builds.authorizer.file };
}

/** A REST API (v1) REQUEST authorizer event, as API Gateway sends it for GET /callbacks. */
const authorizerEvent = (token: string): APIGatewayRequestAuthorizerEvent =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: '/callbacks',
    path: '/prod/callbacks',
    httpMethod: 'GET',
    headers: { Authorization: `Bearer ${token}`, Host: 'bench.example' },
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { stage: 'prod', path: '/prod/callbacks' },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

const refused = async (fn: () => Promise<unknown>): Promise<boolean> => {
  try {
    await fn();
    return false;
  } catch {
    return true;
  }
};

export async function authorizerBench(
  fresh: Fresh,
  options: { initRuns: number; people: number; rounds: number; firstVerifications: number },
): Promise<AuthorizerBench> {
  // The cold starts with the settings serverless.yml gives the operator (a pool in AWS: no COGNITO_ENDPOINT).
  const { cold, authorizerFile } = await coldStart(options.initRuns, {
    USER_POOL_ID: 'us-east-1_bench0000',
    USER_POOL_CLIENT_ID: 'benchclient0000',
  });

  // The local pool starts while DynamoDB Local does.
  const starting = startLocalCognito({ poolName: 'bench-authorizer' });
  starting.catch(() => {});
  const measured = await fresh(async (endpoint) => {
    let pool: LocalCognito | undefined;
    const meter = await startMeter(endpoint);
    const env = benchEnv();
    try {
      pool = await starting;
      await createTable(localClient(endpoint), TABLE);
      const docs = createDocumentClient(localClient(endpoint));
      const metered = createDocumentClient(localClient(meter.endpoint));
      const poolEnv = { USER_POOL_ID: pool.userPoolId, USER_POOL_CLIENT_ID: pool.clientId, COGNITO_ENDPOINT: pool.endpoint };
      const config = readAuthConfig(poolEnv) as AuthConfig;

      // People: every other one changed by an admin (a PERSON# item), the rest not; one more disabled.
      const subs: string[] = [];
      const tokens: { token: string; sub: string }[] = [];
      for (let i = 0; i < options.people; i++) {
        const email = `person${i}@bench.example`;
        const role = i % 3 === 0 ? 'admin' : 'agent';
        const sub = await pool.createPerson({ email, name: `Person ${i}`, role, password: PASSWORD });
        if (i % 2 === 0) await keepStanding(docs, TABLE, sub, { role, disabled: false }, new Date());
        subs.push(sub);
        const signedIn = await signInWithPassword(pool, email, PASSWORD);
        tokens.push({ token: signedIn.idToken, sub }, { token: signedIn.accessToken, sub });
      }
      const goneSub = await pool.createPerson({ email: 'gone@bench.example', name: 'Gone', role: 'agent', password: PASSWORD });
      const gone = (await signInWithPassword(pool, 'gone@bench.example', PASSWORD)).idToken;
      // Disabled by an admin after signing in: the token is still within its hour.
      await keepStanding(docs, TABLE, goneSub, { role: 'agent', disabled: true }, new Date());

      const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, query: '' });
      const firstToken = tokens[0]?.token ?? '';
      // 1. The first check of each design, each with its own verifier and DynamoDB client, before
      // any other verification in this process (JWKS fetched, connection opened, code not yet hot).
      let t = performance.now();
      await identify(request(firstToken), {
        config,
        verify: tokenVerifier(config),
        standing: standingReader(createDocumentClient(localClient(endpoint)), TABLE),
      });
      const inFunctionFirstMs = performance.now() - t;
      env.set({ ...poolEnv, TABLE_NAME: TABLE, AWS_ENDPOINT_URL_DYNAMODB: endpoint });
      const authorizer = loadHandler<AuthorizerHandler>(authorizerFile);
      t = performance.now();
      const firstAuthorized = await authorizer(authorizerEvent(firstToken));
      const authorizerFirstMs = performance.now() - t;
      // A fresh verifier's first verification (its JWKS fetch), then warm ones.
      const first: number[] = [];
      for (let i = 0; i < options.firstVerifications; i++) {
        const verifier = tokenVerifier(config);
        const { token } = tokens[i % tokens.length] as { token: string };
        t = performance.now();
        await verifier(token);
        first.push(performance.now() - t);
      }
      const verify = tokenVerifier(config);
      const standing = standingReader(docs, TABLE);
      const auth = { config, verify, standing };
      await verify(firstToken);
      await identify(request(firstToken), auth);

      // 2. Interleaved per token: the verification, the standing read, the operator's check, the authorizer.
      const verifyMs: number[] = [];
      const getItemMs: number[] = [];
      const inFunctionMs: number[] = [];
      const authorizerMs: number[] = [];
      let everyTokenPasses = firstAuthorized.policyDocument.Statement[0]?.Effect === 'Allow';
      for (let r = 0; r < options.rounds; r++)
        for (const { token, sub } of tokens) {
          t = performance.now();
          await verify(token);
          verifyMs.push(performance.now() - t);
          t = performance.now();
          await standing(sub);
          getItemMs.push(performance.now() - t);
          t = performance.now();
          const caller = await identify(request(token), auth);
          inFunctionMs.push(performance.now() - t);
          t = performance.now();
          const answer = await authorizer(authorizerEvent(token));
          authorizerMs.push(performance.now() - t);
          const role = caller.kind === 'person' && caller.id === sub ? caller.role : undefined;
          const statement = answer.policyDocument.Statement[0];
          if (role === undefined || statement?.Effect !== 'Allow' || answer.context?.sub !== sub || answer.context?.role !== role)
            everyTokenPasses = false;
        }

      // 3. The disabled person: refused by both (the authorizer only when its answer is not cached).
      const disabledRefusedInFunction = await refused(() => identify(request(gone), auth));
      const disabledRefusedByAuthorizer = await refused(() => authorizer(authorizerEvent(gone)));

      // Requests and read units, metered: a standing read with and without an item, one check, one invocation.
      const meterOnce = async (fn: () => Promise<unknown>): Promise<MeterReading> => {
        meter.reset();
        await fn();
        return meter.read();
      };
      const meteredStanding = standingReader(metered, TABLE);
      const changed = subs[0] ?? '';
      const unchanged = subs[1] ?? subs[0] ?? '';
      const withItem = await meterOnce(() => meteredStanding(changed));
      const withoutItem = await meterOnce(() => meteredStanding(unchanged));
      const inFunctionDynamo = await meterOnce(() => identify(request(firstToken), { config, verify, standing: meteredStanding }));
      // Another instance of the bundle, its DynamoDB client behind the meter (the timed one is done with).
      env.set({ ...poolEnv, TABLE_NAME: TABLE, AWS_ENDPOINT_URL_DYNAMODB: meter.endpoint });
      const meteredAuthorizer = loadHandler<AuthorizerHandler>(authorizerFile);
      await meteredAuthorizer(authorizerEvent(firstToken));
      const authorizerDynamo = await meterOnce(() => meteredAuthorizer(authorizerEvent(firstToken)));

      return {
        verification: {
          people: options.people,
          tokens: tokens.length,
          first: { samples: first.length, medianMs: ms(median(first)), maxMs: ms(Math.max(...first)) },
          warm: { samples: verifyMs.length, p50Us: us(median(verifyMs)), p95Us: us(percentile(verifyMs, 95)) },
        },
        standing: {
          samples: getItemMs.length,
          getItem: { p50Ms: ms(median(getItemMs)), p95Ms: ms(percentile(getItemMs, 95)) },
          perRead: { withItem, withoutItem },
        },
        perRequest: {
          inFunction: {
            firstMs: ms(inFunctionFirstMs),
            p50Ms: ms(median(inFunctionMs)),
            p95Ms: ms(percentile(inFunctionMs, 95)),
            dynamo: inFunctionDynamo,
          },
          authorizer: {
            firstMs: ms(authorizerFirstMs),
            p50Ms: ms(median(authorizerMs)),
            p95Ms: ms(percentile(authorizerMs, 95)),
            dynamo: authorizerDynamo,
          },
        },
        ratios: {
          verifyOverGetItem: Number((median(verifyMs) / median(getItemMs)).toFixed(3)),
          authorizerOverInFunction: Number((median(authorizerMs) / median(inFunctionMs)).toFixed(2)),
          coldAuthorizerDesignOverInFunction: cold.ratio,
        },
        checks: { everyTokenPassesBoth: everyTokenPasses, disabledRefusedInFunction, disabledRefusedByAuthorizer },
      };
    } finally {
      env.restore();
      await meter.stop();
      await (pool ?? (await starting.catch(() => undefined)))?.stop();
    }
  });
  if (!measured.checks.everyTokenPassesBoth) throw new Error('a valid token was refused by one of the designs');
  if (!measured.checks.disabledRefusedInFunction || !measured.checks.disabledRefusedByAuthorizer)
    throw new Error('a disabled person was let in by one of the designs');
  return {
    coldStart: cold,
    ...measured,
    requests: {
      inFunction: { perRequest: '1 GetItem (consistent) per person’s request; no other function', staleSeconds: 0 },
      authorizer: {
        ttlSeconds: DEFAULT_TTL_SECONDS,
        perTokenPerTtl: '1 authorizer invocation + 1 GetItem per token per TTL',
        onCacheHit: '0 invocations, 0 GetItem (API Gateway answers from its cache)',
        staleSeconds: DEFAULT_TTL_SECONDS,
      },
    },
    notMeasured: [
      'Lambda’s invoke of the authorizer by API Gateway and the extra function’s sandbox start (no AWS account here)',
      'API Gateway’s authorizer cache lookup',
      'the JWKS fetch from cognito-idp.<region>.amazonaws.com (here from the local pool)',
    ],
  };
}
