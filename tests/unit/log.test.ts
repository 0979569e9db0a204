import { afterEach, describe, expect, it, vi } from 'vitest';
import { JsonLogger } from '../../lib/platform/log.js';

const captured = () => {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
  return { out, err };
};

afterEach(() => vi.restoreAllMocks());

describe('the JSON logger', () => {
  it('writes one JSON object a line: INFO to stdout, WARN and ERROR to stderr, below the level nothing', () => {
    const { out, err } = captured();
    const logger = new JsonLogger('svc', 'info');
    logger.debug('hidden');
    logger.info('recorded', { callSid: 'CA1' });
    logger.warn('refused', { statusCode: 403 });
    logger.error('failed');
    expect(out.map((line) => JSON.parse(line))).toEqual([
      { level: 'INFO', message: 'recorded', timestamp: expect.any(String), service: 'svc', callSid: 'CA1' },
    ]);
    expect(err.map((line) => JSON.parse(line).level)).toEqual(['WARN', 'ERROR']);
    expect(out.every((line) => line.endsWith('}\n') && line.split('\n').length === 2)).toBe(true);
    logger.setLogLevel('SILENT');
    logger.error('quiet');
    expect(err).toHaveLength(2);
  });

  it("carries the Lambda context, cold_start only on the first invocation, and an error's name, message, stack and cause", () => {
    const { err } = captured();
    const logger = new JsonLogger('svc', 'INFO');
    const context = { functionName: 'fn', awsRequestId: 'r1', invokedFunctionArn: 'arn', memoryLimitInMB: '256' };
    logger.addContext(context);
    logger.error('first', { error: new Error('outer', { cause: new TypeError('inner') }) });
    logger.addContext({ ...context, awsRequestId: 'r2' });
    logger.warn('second');
    const [first, second] = err.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      cold_start: true,
      function_name: 'fn',
      function_request_id: 'r1',
      function_memory_size: '256',
      error: { name: 'Error', message: 'outer', stack: expect.stringContaining('outer'), cause: { name: 'TypeError', message: 'inner' } },
    });
    expect(second).toMatchObject({ cold_start: false, function_request_id: 'r2' });
  });
});
