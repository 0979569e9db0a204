import { type GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { SecretUnavailableError, secretResolver } from '../../lib/platform/secrets.js';

/** An SSM client double that answers from a map and can be told to fail: fault injection only. */
function fakeSsm(values: Record<string, string>, failures = 0) {
  const calls: string[] = [];
  let remaining = failures;
  const client = {
    send: async (command: GetParameterCommand) => {
      const name = command.input.Name ?? '';
      calls.push(name);
      if (remaining > 0) {
        remaining -= 1;
        throw new Error('throttled');
      }
      const value = values[name];
      if (value === undefined) throw new ParameterNotFound({ message: `${name} not found`, $metadata: {} });
      return { Parameter: { Name: name, Value: value } };
    },
  };
  // The resolver uses only `send`; the double implements exactly that.
  return { client: client as unknown as SSMClient, calls };
}

describe('secretResolver', () => {
  it('returns environment tokens as given', async () => {
    const resolve = secretResolver({ kind: 'env', tokens: ['a', 'b'] }, () => {
      throw new Error('SSM must not be used');
    });
    await expect(resolve()).resolves.toEqual(['a', 'b']);
  });

  it('reads primary and secondary once per cold start, then serves from cache', async () => {
    const ssm = fakeSsm({ '/p': 'primary', '/s': 'secondary' });
    const resolve = secretResolver({ kind: 'ssm', primary: '/p', secondary: '/s' }, () => ssm.client);
    await expect(resolve()).resolves.toEqual(['primary', 'secondary']);
    await expect(resolve()).resolves.toEqual(['primary', 'secondary']);
    expect(ssm.calls.sort()).toEqual(['/p', '/s']);
  });

  it('works without the optional secondary parameter', async () => {
    const ssm = fakeSsm({ '/p': 'primary' });
    const resolve = secretResolver({ kind: 'ssm', primary: '/p', secondary: '/s' }, () => ssm.client);
    await expect(resolve()).resolves.toEqual(['primary']);
  });

  it('fails with SecretUnavailableError when the primary is missing', async () => {
    const ssm = fakeSsm({});
    const resolve = secretResolver({ kind: 'ssm', primary: '/p', secondary: undefined }, () => ssm.client);
    await expect(resolve()).rejects.toThrow(new SecretUnavailableError('SSM parameter /p could not be read'));
  });

  it('does not cache a failure: the next request reads again', async () => {
    const ssm = fakeSsm({ '/p': 'primary' }, 1);
    const resolve = secretResolver({ kind: 'ssm', primary: '/p', secondary: undefined }, () => ssm.client);
    await expect(resolve()).rejects.toThrow(SecretUnavailableError);
    await expect(resolve()).resolves.toEqual(['primary']);
    expect(ssm.calls).toEqual(['/p', '/p']);
  });
});
