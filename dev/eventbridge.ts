/**
 * A local EventBridge-compatible endpoint: answers the SDK's `PutEvents` (JSON 1.1,
 * `X-Amz-Target: AWSEvents.PutEvents`) as EventBridge does, keeps every event it received and
 * serves them at `GET /__local/events`. `refuse` makes the next entries fail (FailedEntryCount),
 * as EventBridge reports an entry it did not take. `rules` stand for the stack's rules on the bus
 * (serverless.yml's `AWS::Events::Rule` resources): a matching event goes to its target.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { matchesPattern } from './event-filter.js';

export interface ReceivedEvent {
  eventId: string;
  receivedAt: string;
  source: string;
  detailType: string;
  eventBusName: string;
  detail: unknown;
}

/** An event as EventBridge delivers it to a rule's target. */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** A rule on the local bus: the events its pattern matches go to `deliver` (not awaited: PutEvents answers first). */
export interface LocalRule {
  name: string;
  pattern: unknown;
  deliver: (event: DeliveredEvent) => Promise<void>;
}

export interface LocalEventBridge {
  endpoint: string;
  events: ReceivedEvent[];
  /** The next `n` entries are refused. */
  refuse(n: number): void;
  stop(): Promise<void>;
}

export async function startLocalEventBridge(
  options: {
    port?: number;
    onEvent?: (event: ReceivedEvent) => void;
    rules?: readonly LocalRule[];
    onRuleError?: (rule: string, error: unknown) => void;
  } = {},
): Promise<LocalEventBridge> {
  const events: ReceivedEvent[] = [];
  let refusals = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/__local/events') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(events));
        return;
      }
      if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
        res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: 'only PutEvents is served here' }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Entries?: Record<string, string>[] };
      let failed = 0;
      const answers = (body.Entries ?? []).map((entry) => {
        if (refusals > 0) {
          refusals -= 1;
          failed += 1;
          return { ErrorCode: 'InternalFailure', ErrorMessage: 'refused locally' };
        }
        let detail: unknown;
        try {
          detail = JSON.parse(entry.Detail ?? 'null');
        } catch {
          failed += 1;
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
        }
        const event: ReceivedEvent = {
          eventId: randomUUID(),
          receivedAt: new Date().toISOString(),
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          eventBusName: entry.EventBusName ?? 'default',
          detail,
        };
        events.push(event);
        options.onEvent?.(event);
        const delivered: DeliveredEvent = {
          version: '0',
          id: event.eventId,
          'detail-type': event.detailType,
          source: event.source,
          account: '000000000000',
          time: event.receivedAt.replace(/\.\d{3}Z$/, 'Z'),
          region: process.env.AWS_REGION ?? 'us-east-1',
          resources: [],
          detail,
        };
        for (const rule of options.rules ?? []) {
          if (!matchesPattern(rule.pattern, delivered)) continue;
          rule.deliver(delivered).catch((error: unknown) => options.onRuleError?.(rule.name, error));
        }
        return { EventId: event.eventId };
      });
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: failed, Entries: answers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    refuse: (n) => {
      refusals = n;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
