/**
 * `GET /stats`: the day-counter items of a date range, read with BatchGetItem only (never a
 * scan or a query of call items), so a request costs ceil(days / 100) reads whatever the traffic.
 */
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MISSED_STATUSES, type MissedStatus, SOURCES, type Source } from '../ledger/calls.js';
import { LedgerUnavailableError, statsKey } from '../ledger/store.js';
import { BadRequestError } from '../platform/request.js';
import { backoffMs, defaultSleep } from '../ledger/transactions.js';

export const MAX_STATS_DAYS = 366;
const DAY_MS = 86_400_000;

export interface Counts {
  totals: { total: number } & Record<MissedStatus, number>;
  bySource: Record<Source, number>;
  anonymous: number;
  contactsCreated: number;
}

export interface StatsResponse extends Counts {
  from: string;
  to: string;
  days: ({ day: string } & Counts)[];
}

function parseDay(value: string | null, name: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new BadRequestError(400, `${name} must be a date as YYYY-MM-DD`);
  }
  return new Date(ms);
}

/**
 * The days of a `from`/`to` query (inclusive, UTC); by default the last 30 days to today.
 * @throws BadRequestError 400 naming the parameter.
 */
export function statsRange(query: URLSearchParams, today: Date): { from: string; to: string; days: string[] } {
  const to = parseDay(query.get('to'), 'to') ?? new Date(Date.parse(today.toISOString().slice(0, 10)));
  const from = parseDay(query.get('from'), 'from') ?? new Date(to.getTime() - 29 * DAY_MS);
  if (from > to) throw new BadRequestError(400, 'from must not be after to');
  const count = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (count > MAX_STATS_DAYS) throw new BadRequestError(400, `from..to spans ${count} days; at most ${MAX_STATS_DAYS} a request`);
  const days = Array.from({ length: count }, (_, i) => new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10));
  return { from: days[0] ?? '', to: days.at(-1) ?? '', days };
}

const num = (item: Record<string, unknown> | undefined, name: string): number => {
  const value = item?.[name];
  return typeof value === 'number' ? value : 0;
};

function countsOf(item: Record<string, unknown> | undefined): Counts {
  const totals = { total: num(item, 'total') } as Counts['totals'];
  for (const status of MISSED_STATUSES) totals[status] = num(item, `status:${status}`);
  const bySource = {} as Counts['bySource'];
  for (const source of SOURCES) bySource[source] = num(item, `source:${source}`);
  return { totals, bySource, anonymous: num(item, 'anonymous'), contactsCreated: num(item, 'contactsCreated') };
}

function add(sum: Counts, day: Counts): void {
  for (const key of ['total', ...MISSED_STATUSES] as const) sum.totals[key] += day.totals[key];
  for (const source of SOURCES) sum.bySource[source] += day.bySource[source];
  sum.anonymous += day.anonymous;
  sum.contactsCreated += day.contactsCreated;
}

/** Reads the counters of `days` and sums them. */
export async function readStats(
  client: DynamoDBDocumentClient,
  tableName: string,
  range: { from: string; to: string; days: string[] },
  options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<StatsResponse> {
  const found = new Map<string, Record<string, unknown>>();
  const sleep = options.sleep ?? defaultSleep;
  for (let i = 0; i < range.days.length; i += 100) {
    let keys: Record<string, unknown>[] = range.days.slice(i, i + 100).map((day) => ({ pk: statsKey(day) }));
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > (options.maxAttempts ?? 6)) throw new LedgerUnavailableError('BatchGetItem left day counters unprocessed');
      if (attempt > 1) await sleep(backoffMs(attempt));
      let out: BatchGetCommandOutput;
      try {
        out = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
      } catch (error) {
        throw new LedgerUnavailableError('The day counters could not be read', { cause: error });
      }
      for (const item of out.Responses?.[tableName] ?? []) if (typeof item.day === 'string') found.set(item.day, item);
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  const sum = countsOf(undefined);
  const days = range.days.map((day) => {
    const counts = countsOf(found.get(day));
    add(sum, counts);
    return { day, ...counts };
  });
  return { from: range.from, to: range.to, ...sum, days };
}
