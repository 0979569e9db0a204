/** Runs `npm start`'s local stack as a child process (the demo and the HTTP benchmark use it). */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './dynamodb-local.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface LocalStack {
  target: string;
  key: string;
  twilioApi: string;
  /** DynamoDB Local's endpoint (region us-east-1, the fixed local credentials). */
  dynamoEndpoint: string | undefined;
  /** Everything `npm start` printed so far (stdout and stderr). */
  output: () => string;
  /** SIGTERM, then its exit code once it has exited (null when it had already). */
  stop: () => Promise<number | null>;
}

/** Starts `npm start`'s stack on free ports and resolves once it is ready. */
export async function startLocalStack(env: Readonly<Record<string, string>> = {}): Promise<LocalStack> {
  const [port, lambdaPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(join(root, 'node_modules/.bin/tsx'), ['scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), OFFLINE_LAMBDA_PORT: String(lambdaPort), TWILIO_API_BASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The local stack did not start:\n${output.slice(-2000)}`)), 180_000);
    const check = setInterval(() => {
      if (output.includes('Local stack ready')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`The local stack exited (${code}):\n${output.slice(-2000)}`));
    });
  });
  const key = /x-api-key: ([\w-]+)/.exec(output)?.[1];
  const twilioApi = /Twilio API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  const dynamoEndpoint = /DynamoDB Local\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (!key || !twilioApi) throw new Error('Could not read the operator key or the Twilio API URL from npm start');
  return {
    target: `http://127.0.0.1:${port}`,
    key,
    twilioApi,
    dynamoEndpoint,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return null;
      const gone = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return gone;
    },
  };
}
