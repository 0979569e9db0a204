/**
 * A metering HTTP proxy in front of DynamoDB Local: counts every request by operation and asks
 * DynamoDB Local for the capacity each one consumed (`ReturnConsumedCapacity: TOTAL` added to
 * the request), so a benchmark can report requests and read/write units per call of any client,
 * the bundled handlers' included. A request refused by a condition reports no capacity here (AWS
 * bills such a write as at least 1 write unit). It also counts the writes to every item key
 * (`keyWrites`), to find a hot key, the keys `BatchGetItem` asks for (`batchGetKeys`) and the units
 * by operation (`unitsByOp`).
 */
import { createServer, request, type Server } from 'node:http';

/** Operations that accept ReturnConsumedCapacity. */
const METERED = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
]);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface MeterReading {
  /** Requests by operation. */
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Requests answered with an error (a failed condition, a cancelled transaction…). */
  errors: number;
  /** Keys asked for by `BatchGetItem` requests (the ones it left unprocessed and were asked again included). */
  batchGetKeys?: number;
  /** Capacity units by operation (read units of the reads, write units of the writes). */
  unitsByOp?: Record<string, number>;
}

/** Writes to one item key: how many, and how many of them inside a transaction (2 write units per KB each). */
export interface KeyWrites {
  writes: number;
  transactional: number;
}

/** The item keys (`pk`) a write request writes, and whether it is a transaction. */
function writtenKeys(op: string, json: Record<string, unknown>): { keys: string[]; transactional: boolean } {
  const pk = (key: unknown): string[] => {
    const value = (key as { pk?: { S?: unknown } } | undefined)?.pk?.S;
    return typeof value === 'string' ? [value] : [];
  };
  if (op === 'PutItem') return { keys: pk(json.Item), transactional: false };
  if (op === 'UpdateItem' || op === 'DeleteItem') return { keys: pk(json.Key), transactional: false };
  if (op === 'BatchWriteItem') {
    const requests = Object.values((json.RequestItems as Record<string, unknown[]>) ?? {}).flat() as Record<
      string,
      Record<string, unknown>
    >[];
    return { keys: requests.flatMap((r) => [...pk(r.PutRequest?.Item), ...pk(r.DeleteRequest?.Key)]), transactional: false };
  }
  if (op === 'TransactWriteItems') {
    const items = (json.TransactItems as Record<string, Record<string, unknown>>[]) ?? [];
    return { keys: items.flatMap((t) => [...pk(t.Put?.Item), ...pk(t.Update?.Key), ...pk(t.Delete?.Key)]), transactional: true };
  }
  return { keys: [], transactional: false };
}

export interface Meter {
  endpoint: string;
  read(): MeterReading;
  /** Writes per item key since the start or the last reset (every attempt, as AWS bills them). */
  keyWrites(): Map<string, KeyWrites>;
  reset(): void;
  stop(): Promise<void>;
}

function unitsOf(body: unknown): number {
  if (typeof body !== 'object' || body === null || !('ConsumedCapacity' in body)) return 0;
  const consumed = body.ConsumedCapacity;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum: number, c: unknown) => {
    const units = typeof c === 'object' && c !== null && 'CapacityUnits' in c && typeof c.CapacityUnits === 'number' ? c.CapacityUnits : 0;
    return sum + units;
  }, 0);
}

export async function startMeter(target: string): Promise<Meter> {
  const upstream = new URL(target);
  let reading: MeterReading = { requests: {}, readUnits: 0, writeUnits: 0, errors: 0, batchGetKeys: 0, unitsByOp: {} };
  let perKey = new Map<string, KeyWrites>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      reading.requests[op] = (reading.requests[op] ?? 0) + 1;
      let body = Buffer.concat(chunks);
      if (METERED.has(op)) {
        const json = JSON.parse(body.toString('utf8') || '{}');
        if (WRITES.has(op)) {
          const { keys, transactional } = writtenKeys(op, json);
          for (const key of keys) {
            const counted = perKey.get(key) ?? { writes: 0, transactional: 0 };
            counted.writes += 1;
            if (transactional) counted.transactional += 1;
            perKey.set(key, counted);
          }
        }
        if (op === 'BatchGetItem') {
          const tables = Object.values((json.RequestItems as Record<string, { Keys?: unknown[] }>) ?? {});
          reading.batchGetKeys = (reading.batchGetKeys ?? 0) + tables.reduce((n, t) => n + (t.Keys?.length ?? 0), 0);
        }
        json.ReturnConsumedCapacity = 'TOTAL';
        body = Buffer.from(JSON.stringify(json));
      }
      const headers = { ...req.headers, 'content-length': String(body.length), host: upstream.host };
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (chunk: Buffer) => parts.push(chunk));
        up.on('end', () => {
          const answer = Buffer.concat(parts);
          if ((up.statusCode ?? 500) >= 400) reading.errors += 1;
          else {
            const units = unitsOf(JSON.parse(answer.toString('utf8') || '{}'));
            if (WRITES.has(op)) reading.writeUnits += units;
            else reading.readUnits += units;
            if (reading.unitsByOp !== undefined) reading.unitsByOp[op] = (reading.unitsByOp[op] ?? 0) + units;
          }
          res.writeHead(up.statusCode ?? 500, up.headers);
          res.end(answer);
        });
      });
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    read: () => structuredClone(reading),
    keyWrites: () => new Map(perKey),
    reset: () => {
      reading = { requests: {}, readUnits: 0, writeUnits: 0, errors: 0, batchGetKeys: 0, unitsByOp: {} };
      perKey = new Map();
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
