/**
 * A local stand-in for Lambda's DynamoDB stream event source mapping: reads DynamoDB Local's
 * real stream, applies the mapping's filter patterns, batches, invokes the function, and keeps
 * the partial-failure contract (retry from the first reported failure, bounded attempts, then
 * bisect and hand what still fails to an on-failure callback, the local SQS destination).
 */
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type AttributeValue as SdkAttributeValue,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { passesFilters } from './event-filter.js';
import type { StreamEventConfig } from './serverless-config.js';

export type Invoke = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined | null>;

export interface FailedBatch {
  records: DynamoDBRecord[];
  reason: string;
}

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  config: StreamEventConfig;
  invoke: Invoke;
  onFailure: (failure: FailedBatch) => void;
}

export interface PollResult {
  read: number;
  delivered: number;
  filteredOut: number;
}

function toLambdaValue(value: SdkAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error('Unknown attribute value in stream record');
}

function toLambdaImage(image: Record<string, SdkAttributeValue> | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image ?? {})) out[name] = toLambdaValue(value);
  return out;
}

/** An SDK stream record in the shape Lambda hands to a function. */
export function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d?.ApproximateCreationDateTime ? Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) : undefined,
      Keys: toLambdaImage(d?.Keys),
      ...(d?.NewImage ? { NewImage: toLambdaImage(d.NewImage) } : {}),
      ...(d?.OldImage ? { OldImage: toLambdaImage(d.OldImage) } : {}),
      SequenceNumber: d?.SequenceNumber,
      SizeBytes: d?.SizeBytes,
      StreamViewType: d?.StreamViewType,
    },
    ...(record.userIdentity ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } } : {}),
  };
}

interface ShardState {
  iterator: string | undefined;
  lastSequence: string | undefined;
  closed: boolean;
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: StreamPollerOptions) {}

  private async shardIds(): Promise<string[]> {
    const ids: string[] = [];
    let start: string | undefined;
    do {
      const out = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) if (shard.ShardId) ids.push(shard.ShardId);
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    return ids;
  }

  private async iterator(shardId: string, state: ShardState): Promise<string | undefined> {
    if (state.iterator !== undefined) return state.iterator;
    const out = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shardId,
        ...(state.lastSequence === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: state.lastSequence }),
      }),
    );
    return out.ShardIterator;
  }

  /** Reads what each shard holds now and delivers it; resolves when all of it was handled. */
  async pollOnce(): Promise<PollResult> {
    const result: PollResult = { read: 0, delivered: 0, filteredOut: 0 };
    for (const shardId of await this.shardIds()) {
      const state = this.shards.get(shardId) ?? { iterator: undefined, lastSequence: undefined, closed: false };
      this.shards.set(shardId, state);
      while (!state.closed) {
        let out: GetRecordsCommandOutput;
        try {
          const iterator = await this.iterator(shardId, state);
          if (iterator === undefined) {
            state.closed = true;
            break;
          }
          out = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        } catch (error) {
          if (error instanceof ExpiredIteratorException) {
            state.iterator = undefined;
            continue;
          }
          // DynamoDB Local answers this now and then for a new, still empty shard read from
          // TRIM_HORIZON; nothing was read yet, so the next poll simply starts again.
          if (error instanceof Error && error.name === 'TrimmedDataAccessException' && state.lastSequence === undefined) {
            state.iterator = undefined;
            break;
          }
          throw error;
        }
        const records = (out.Records ?? []).map((r) => toLambdaRecord(r, this.options.streamArn, this.options.region));
        state.iterator = out.NextShardIterator;
        if (out.NextShardIterator === undefined) state.closed = true;
        if (records.length === 0) break;
        result.read += records.length;
        const passing = records.filter((r) => passesFilters(this.options.config.filterPatterns, r));
        result.filteredOut += records.length - passing.length;
        for (let i = 0; i < passing.length; i += this.options.config.batchSize) {
          const batch = passing.slice(i, i + this.options.config.batchSize);
          await this.deliver(batch);
          result.delivered += batch.length;
        }
        state.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? state.lastSequence;
      }
    }
    return result;
  }

  /** Lambda's contract: retry from the lowest reported failure; after the retries, bisect. */
  private async deliver(batch: DynamoDBRecord[]): Promise<void> {
    let pending = batch;
    let reason = '';
    for (let attempt = 0; attempt <= this.options.config.maximumRetryAttempts; attempt++) {
      let response: DynamoDBBatchResponse | undefined | null;
      try {
        response = await this.options.invoke({ Records: pending });
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
        continue;
      }
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      if (failed.size === 0) return;
      const first = pending.findIndex((r) => r.dynamodb?.SequenceNumber !== undefined && failed.has(r.dynamodb.SequenceNumber));
      // An identifier that matches no record fails the whole batch, as in Lambda.
      pending = first === -1 ? pending : pending.slice(first);
      reason = `batchItemFailures: ${[...failed].join(', ')}`;
    }
    if (pending.length > 1) {
      const half = Math.ceil(pending.length / 2);
      await this.deliver(pending.slice(0, half));
      await this.deliver(pending.slice(half));
      return;
    }
    this.options.onFailure({ records: pending, reason });
  }

  /** Polls every `intervalMs` until {@link stop}. Errors are reported and polling goes on. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pollOnce()
        .then(() => undefined)
        .catch(onError)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
