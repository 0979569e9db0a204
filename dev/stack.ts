/**
 * Runs `npm start`'s local stack as a child process, through `npm start` itself (the demo, the
 * HTTP benchmark and the end-to-end tests use it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './dynamodb-local.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface LocalStack {
  target: string;
  /** The dashboard's URL, as the banner prints it. */
  dashboard: string;
  key: string;
  twilioApi: string;
  /** The local EventBridge endpoint (its events at GET /__local/events). */
  events: string;
  /** DynamoDB Local's endpoint (region us-east-1, the fixed local credentials). */
  dynamoEndpoint: string | undefined;
  /** The ports the stack listens on (HTTP, Lambda invoke, DynamoDB Local, the local Twilio API, Cognito). */
  ports: number[];
  /** The local user pool (moto's server), the people's API key and the first admin. */
  cognito: {
    endpoint: string;
    userPoolId: string;
    clientId: string;
    peopleKey: string;
    admin: { email: string; password: string };
  };
  /** The process this started: `npm start`, or the shell that runs it (`parentShell`). */
  launcher: ChildProcess;
  /** Everything `npm start` printed so far (stdout and stderr). */
  output: () => string;
  /** Processes of this stack still alive (found by a marker in their environment; Linux only). */
  processes: () => number[];
  /** SIGTERM to the launcher, then its exit code once it has exited (null: by a signal, or already). */
  stop: () => Promise<number | null>;
}

/** Live processes whose environment holds `MCL_STACK_ID=<id>` (every descendant inherits it). */
function processesMarked(id: string): number[] {
  const needle = `MCL_STACK_ID=${id}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * Starts `npm start`'s stack on free ports and resolves once it is ready. With `parentShell`,
 * `npm start` runs under a shell of its own (`launcher`), so that a test can kill its parent.
 */
export async function startLocalStack(
  env: Readonly<Record<string, string>> = {},
  options: { parentShell?: boolean } = {},
): Promise<LocalStack> {
  const [port, lambdaPort] = [await freePort(), await freePort()];
  const id = randomUUID();
  // Its own build folder: a stack starting elsewhere never rewrites the bundles this one loads.
  const workFolder = join('.esbuild-stacks', id);
  const childEnv = {
    ...process.env,
    PORT: String(port),
    OFFLINE_LAMBDA_PORT: String(lambdaPort),
    TWILIO_API_BASE_URL: '',
    MCL_STACK_ID: id,
    ESBUILD_WORK_FOLDER: workFolder,
    ...env,
  };
  // `; :` keeps the shell from exec-ing npm, so that it stays npm's parent.
  const child: ChildProcess = options.parentShell
    ? spawn('sh', ['-c', 'npm start --silent; :'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('npm', ['start', '--silent'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  // The build folder goes with the stack.
  child.once('exit', () => rmSync(join(root, workFolder), { recursive: true, force: true }));
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
  const dashboard = /Dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
  const events = /Events\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
  const signIn = /Sign in\s+(\S+) \/ (\S+)/.exec(output);
  const pool = /Cognito\s+(http:\/\/127\.0\.0\.1:\d+)\s+pool (\S+)\s+client (\S+)\s+\(moto_server; people's key (\S+)\)/.exec(output);
  if (!key || !twilioApi || !dashboard)
    throw new Error('Could not read the operator key, the Twilio API URL or the dashboard URL from npm start');
  const portOf = (url: string | undefined) => Number(new URL(url ?? 'http://127.0.0.1:0').port);
  return {
    target: `http://127.0.0.1:${port}`,
    dashboard,
    key,
    twilioApi,
    events,
    dynamoEndpoint,
    ports: [port, lambdaPort, portOf(dynamoEndpoint), portOf(twilioApi), portOf(pool?.[1])],
    cognito: {
      endpoint: pool?.[1] ?? '',
      userPoolId: pool?.[2] ?? '',
      clientId: pool?.[3] ?? '',
      peopleKey: pool?.[4] ?? '',
      admin: { email: signIn?.[1] ?? '', password: signIn?.[2] ?? '' },
    },
    launcher: child,
    output: () => output,
    processes: () => processesMarked(id),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return null;
      const gone = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return gone;
    },
  };
}
