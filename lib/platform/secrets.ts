/**
 * Secrets (the Twilio auth tokens, an API key secret): from the environment locally, from SSM
 * Parameter Store (SecureString) in AWS, read once per cold start and cached for warm invocations.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';

/** Where a secret comes from: given directly (local stack) or SSM (AWS), with an optional second one (a rotation). */
export type SecretSource = { kind: 'env'; tokens: readonly string[] } | { kind: 'ssm'; primary: string; secondary: string | undefined };

/** The token store could not be read: the request fails with 503 and Twilio retries it. */
export class SecretUnavailableError extends Error {
  override name = 'SecretUnavailableError';
}

async function readParameter(client: SSMClient, name: string, optional: boolean): Promise<string | undefined> {
  // Loaded with the client (lib/platform/aws.ts `ssm()`): only a function that reads a parameter pays for it.
  const { GetParameterCommand, ParameterNotFound } = await import('@aws-sdk/client-ssm');
  try {
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value?.trim();
    if (value === undefined || value === '') throw new SecretUnavailableError(`SSM parameter ${name} is empty`);
    return value;
  } catch (error) {
    if (optional && error instanceof ParameterNotFound) return undefined;
    if (error instanceof SecretUnavailableError) throw error;
    throw new SecretUnavailableError(`SSM parameter ${name} could not be read`, { cause: error });
  }
}

/**
 * Returns a function that resolves the accepted auth tokens (primary first, then the
 * secondary during a rotation). A successful read is cached; a failed one is retried on
 * the next request rather than cached.
 */
export function secretResolver(source: SecretSource, client: () => SSMClient | Promise<SSMClient>): () => Promise<readonly string[]> {
  if (source.kind === 'env') {
    const tokens = source.tokens;
    return async () => tokens;
  }
  let cached: Promise<readonly string[]> | undefined;
  return () => {
    cached ??= (async () => {
      const ssm = await client();
      const [primary, secondary] = await Promise.all([
        readParameter(ssm, source.primary, false),
        source.secondary === undefined ? undefined : readParameter(ssm, source.secondary, true),
      ]);
      return [primary, secondary].filter((token): token is string => token !== undefined);
    })().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
