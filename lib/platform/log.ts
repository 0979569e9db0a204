/**
 * Structured JSON logging: one JSON object a line, in the shape Powertools Logger writes (`level`,
 * `message`, `timestamp`, `service`, the Lambda context's `function_*` and `cold_start`, then the
 * entry's own keys). INFO and DEBUG go to stdout, WARN and ERROR to stderr. Our own, not
 * Powertools': loading that package was 3 ms of the webhook's cold start, a tenth of what it adds
 * over the DynamoDB client (docs/BENCHMARKS.md). Phone numbers go through `maskPhone`
 * (lib/phone/phone.ts); tokens and signatures are never passed to the logger.
 */

/** `POWERTOOLS_SERVICE_NAME` (serverless.yml sets the service's name), read once for logs and metrics. */
export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME?.trim() || 'missed-call-ledger';

const LEVELS = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
export type LogLevel = keyof typeof LEVELS;

const isLevel = (value: string): value is LogLevel => value in LEVELS;

/** The Lambda context fields a log line carries. */
interface LambdaContext {
  functionName?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string | number;
  awsRequestId?: string;
}

/** An Error as JSON: name, message, stack and cause (JSON.stringify would write `{}`). */
function errorJson(error: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.cause instanceof Error && depth < 3) out.cause = errorJson(error.cause, depth + 1);
  else if (error.cause !== undefined) out.cause = String(error.cause);
  return out;
}

const replacer = (_key: string, value: unknown): unknown => (value instanceof Error ? errorJson(value) : value);

export class JsonLogger {
  private level: number;
  private context: Record<string, unknown> = {};
  private coldStart = true;

  constructor(
    private readonly service: string,
    level = process.env.POWERTOOLS_LOG_LEVEL ?? process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO',
  ) {
    const upper = level.trim().toUpperCase();
    this.level = LEVELS[isLevel(upper) ? upper : 'INFO'];
  }

  setLogLevel(level: LogLevel): void {
    this.level = LEVELS[level];
  }

  /** The invocation's context on every following line; the first invocation is the cold start. */
  addContext(context: LambdaContext): void {
    this.context = {
      cold_start: this.coldStart,
      function_arn: context.invokedFunctionArn,
      function_memory_size: context.memoryLimitInMB === undefined ? undefined : String(context.memoryLimitInMB),
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
    };
    this.coldStart = false;
  }

  debug(message: string, attributes?: Record<string, unknown>): void {
    this.write('DEBUG', message, attributes);
  }
  info(message: string, attributes?: Record<string, unknown>): void {
    this.write('INFO', message, attributes);
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.write('WARN', message, attributes);
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.write('ERROR', message, attributes);
  }

  private write(level: Exclude<LogLevel, 'SILENT' | 'CRITICAL'>, message: string, attributes: Record<string, unknown> | undefined): void {
    if (LEVELS[level] < this.level) return;
    const entry = { level, message, timestamp: new Date().toISOString(), service: this.service, ...this.context, ...attributes };
    let line: string;
    try {
      line = JSON.stringify(entry, replacer);
    } catch {
      line = JSON.stringify({ level, message, timestamp: entry.timestamp, service: this.service, note: 'attributes not serializable' });
    }
    (LEVELS[level] >= LEVELS.WARN ? process.stderr : process.stdout).write(`${line}\n`);
  }
}

export const logger = new JsonLogger(SERVICE_NAME);
