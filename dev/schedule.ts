/**
 * A local stand-in for an EventBridge schedule: invokes a function through serverless-offline's
 * Lambda endpoint with a `Scheduled Event`, every `everyMs`, one invocation at a time (the settle
 * sweep of the webhook function: serverless-offline runs no schedules).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

export interface LocalSchedule {
  stop(): Promise<void>;
  /** Invokes once now (tests), after any invocation in flight. */
  runOnce(): Promise<unknown>;
}

export function startLocalSchedule(options: {
  lambdaPort: number;
  functionName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  everyMs: number;
  onError: (error: unknown) => void;
}): LocalSchedule {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${options.lambdaPort}`,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
  });
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const invoke = async (): Promise<unknown> => {
    const event = {
      version: '0',
      id: `local-${Date.now()}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: options.region,
      resources: [],
      detail: {},
    };
    const out = await client.send(new InvokeCommand({ FunctionName: options.functionName, Payload: Buffer.from(JSON.stringify(event)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError !== undefined) throw new Error(`${options.functionName} failed: ${text.slice(0, 300)}`);
    return text === '' ? undefined : JSON.parse(text);
  };
  const runOnce = () => {
    running = running.catch(() => undefined).then(invoke);
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) runOnce().catch(options.onError);
  }, options.everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
      client.destroy();
    },
    runOnce,
  };
}
