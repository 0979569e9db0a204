/**
 * The runs of the reconciliation: one item each (`RUN#<runId>`), holding its state, its window,
 * where it is (the cursor) and what it counted so far. Written at its start, after every page
 * (a checkpoint a later invocation continues from) and at its end; kept 90 days (TTL).
 * `GET /reconcile/runs` lists them newest first through the `byLastMissed` index under one
 * partition key of their own (a run a night and a few by hand: no hot key).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { MISSED_STATUSES } from '../ledger/calls.js';
import {
  InvalidItemError,
  isRecord,
  readable,
  requireNumber,
  requireOneOf,
  requireString,
  strings,
  TableUnavailableError,
} from '../table/items.js';
import { CONTACTS_INDEX, RECONCILE_RUNS_PARTITION, reconcileRunKey } from '../table/keys.js';
import { batchGetAll, conditionalUpdate } from '../table/requests.js';
import type { RunCursor, RunSummary } from './reconcile.js';

const RUN_STATES = ['running', 'succeeded', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** What started a run: the nightly schedule or `POST /reconcile`. */
const TRIGGERS = ['schedule', 'http'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface RunRecord {
  runId: string;
  trigger: Trigger;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  window: { from: string; to: string };
  cursor: RunCursor;
  /** The counts so far; the final summary once succeeded. */
  summary: RunSummary;
  /** Invocations the run has taken so far. */
  invocations: number;
  /** Consecutive invocations that recorded no page (a run that cannot progress is failed). */
  stalls: number;
  /** When its lease runs out unless renewed: a `running` run past it has stopped without finishing. */
  leaseExpiresAt: string;
  error?: string;
}

/** A run id: an ISO instant, `-`, 8 hex digits (lib/reconcile/run.ts newRunId). */
export const RUN_ID = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z-[0-9a-f]{8}$/;

const RETENTION_SECONDS = 90 * 86_400;

export interface RunStore {
  create(run: RunRecord): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Saves a running run's progress; false when it is no longer running. */
  checkpoint(
    runId: string,
    changes: Partial<Pick<RunRecord, 'cursor' | 'summary' | 'invocations' | 'stalls' | 'leaseExpiresAt'>>,
  ): Promise<boolean>;
  /** Ends a running run (a run already ended stays as it ended); false when it was not running. */
  finish(runId: string, end: { state: 'succeeded' | 'failed'; summary?: RunSummary; error?: string }): Promise<boolean>;
  /** The most recent runs, newest first. */
  list(limit: number): Promise<RunRecord[]>;
}

function requireRecord(item: Readonly<Record<string, unknown>>, name: string): Readonly<Record<string, unknown>> {
  const value = item[name];
  if (!isRecord(value)) throw new InvalidItemError(`${name} is malformed`);
  return value;
}

function parseWindow(item: Readonly<Record<string, unknown>>, name: string): { from: string; to: string } {
  const window = requireRecord(item, name);
  return { from: requireString(window, 'from'), to: requireString(window, 'to') };
}

function parseSummary(value: Readonly<Record<string, unknown>>): RunSummary {
  const recovered: RunSummary['recovered'] = {};
  const byStatus = requireRecord(value, 'recovered');
  for (const status of MISSED_STATUSES) if (typeof byStatus[status] === 'number') recovered[status] = byStatus[status];
  return {
    window: parseWindow(value, 'window'),
    listed: requireNumber(value, 'listed'),
    pages: requireNumber(value, 'pages'),
    alreadyRecorded: requireNumber(value, 'alreadyRecorded'),
    recovered,
    recoveredTotal: requireNumber(value, 'recoveredTotal'),
    enriched: requireNumber(value, 'enriched'),
    // Runs before 0.2.0 had no such count.
    callbacksResolved: typeof value.callbacksResolved === 'number' ? value.callbacksResolved : 0,
    parentsFetched: requireNumber(value, 'parentsFetched'),
    twilioRequests: requireNumber(value, 'twilioRequests'),
    dynamoRequests: requireNumber(value, 'dynamoRequests'),
    durationMs: requireNumber(value, 'durationMs'),
    finishedAt: typeof value.finishedAt === 'string' ? value.finishedAt : '',
  };
}

function parseCursor(value: Readonly<Record<string, unknown>>): RunCursor {
  return {
    status: requireNumber(value, 'status'),
    ...(typeof value.pageUrl === 'string' ? { pageUrl: value.pageUrl } : {}),
    lastPageSids: strings(value.lastPageSids),
    ...(Array.isArray(value.deferred) ? { deferred: strings(value.deferred) } : {}),
  };
}

/**
 * A run item, checked field by field; undefined when the item is not a run.
 * @throws InvalidItemError when a run item is malformed.
 */
export function parseRun(item: Readonly<Record<string, unknown>> | undefined): RunRecord | undefined {
  if (item === undefined || item.type !== 'reconcile-run') return undefined;
  return {
    runId: requireString(item, 'runId'),
    trigger: requireOneOf(item, 'trigger', TRIGGERS, 'a trigger'),
    state: requireOneOf(item, 'state', RUN_STATES, 'a run state'),
    startedAt: requireString(item, 'startedAt'),
    updatedAt: requireString(item, 'updatedAt'),
    ...(typeof item.finishedAt === 'string' ? { finishedAt: item.finishedAt } : {}),
    window: parseWindow(item, 'window'),
    cursor: parseCursor(requireRecord(item, 'cursor')),
    summary: parseSummary(requireRecord(item, 'summary')),
    invocations: requireNumber(item, 'invocations'),
    stalls: requireNumber(item, 'stalls'),
    leaseExpiresAt: requireString(item, 'leaseExpiresAt'),
    ...(typeof item.error === 'string' ? { error: item.error } : {}),
  };
}

export function createRunStore(client: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): RunStore {
  const fail = (what: string, error: unknown) => new TableUnavailableError(`The reconciliation run could not be ${what}`, { cause: error });
  /** SETs `values` on a run that is still running; false when it is not. */
  const update = (runId: string, values: Record<string, unknown>): Promise<boolean> => {
    const names = Object.keys(values);
    return conditionalUpdate(
      client,
      {
        TableName: tableName,
        Key: { pk: reconcileRunKey(runId) },
        UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
        ConditionExpression: '#state = :running',
        ExpressionAttributeNames: { '#state': 'state', ...Object.fromEntries(names.map((name, i) => [`#n${i}`, name])) },
        ExpressionAttributeValues: { ':running': 'running', ...Object.fromEntries(names.map((name, i) => [`:v${i}`, values[name]])) },
      },
      'The reconciliation run',
    );
  };
  return {
    async create(run) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: reconcileRunKey(run.runId),
              type: 'reconcile-run',
              ...run,
              gsi1pk: RECONCILE_RUNS_PARTITION,
              gsi1sk: run.runId,
              expiresAt: Math.floor(now() / 1000) + RETENTION_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        throw fail('created', error);
      }
    },
    async get(runId) {
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: reconcileRunKey(runId) }, ConsistentRead: true }));
        return parseRun(out.Item);
      } catch (error) {
        throw fail('read', error);
      }
    },
    checkpoint: (runId, changes) => update(runId, { ...changes, updatedAt: new Date(now()).toISOString() }),
    finish(runId, end) {
      const at = new Date(now()).toISOString();
      return update(runId, { ...end, updatedAt: at, finishedAt: at });
    },
    async list(limit) {
      try {
        const keys = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: CONTACTS_INDEX,
            KeyConditionExpression: 'gsi1pk = :runs',
            ExpressionAttributeValues: { ':runs': RECONCILE_RUNS_PARTITION },
            ScanIndexForward: false,
            Limit: limit,
          }),
        );
        const pks = (keys.Items ?? []).map((item) => ({ pk: item.pk }));
        const items = await batchGetAll(client, tableName, pks, { what: 'The reconciliation runs', maxAttempts: 6 });
        const runs = items
          .map((item) => readable(() => parseRun(item), 'reconciliation run'))
          .filter((run): run is RunRecord => run !== undefined);
        return runs.sort((a, b) => b.runId.localeCompare(a.runId));
      } catch (error) {
        if (error instanceof TableUnavailableError) throw error;
        throw fail('listed', error);
      }
    },
  };
}

/** A run as the operator API shows it: a `running` run whose lease ran out has failed. */
export function runView(run: RunRecord, now: Date = new Date()) {
  const stopped = run.state === 'running' && Date.parse(run.leaseExpiresAt) < now.getTime();
  const { cursor: _cursor, stalls: _stalls, leaseExpiresAt: _lease, summary, ...rest } = run;
  return {
    ...rest,
    ...(stopped
      ? {
          state: 'failed' as const,
          error: `Stopped without finishing: its last invocation ended and its lease ran out at ${run.leaseExpiresAt}`,
        }
      : {}),
    progress: {
      pages: summary.pages,
      listed: summary.listed,
      alreadyRecorded: summary.alreadyRecorded,
      recovered: summary.recovered,
      recoveredTotal: summary.recoveredTotal,
      enriched: summary.enriched,
    },
    ...(run.state === 'succeeded' ? { summary } : {}),
  };
}
