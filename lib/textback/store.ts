/**
 * The `TEXTBACK#<E.164>` item and its writes. Every write is conditional on the version read, so
 * two deciders never both claim one opening; a settled opening (sent, skipped, failed, unknown)
 * adds its one counter to the day the callback opened in the same transaction.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { addToDay, ones } from '../ledger/day-counters.js';
import { InvalidItemError, TableUnavailableError } from '../table/items.js';
import { callKey, textBackKey } from '../table/keys.js';
import { cancellationCodes } from '../table/requests.js';
import { parseTextBackRecord, type TextBackEpisode, type TextBackRecord, textBackCounter } from './item.js';

export interface TextBackStore {
  read(phone: string): Promise<TextBackRecord | undefined>;
  /** A recorded call's direction (undefined when its item is gone) and whether it turned out answered. */
  callState(callSid: string): Promise<{ direction: string | undefined; answered: boolean }>;
  /**
   * Writes `next` (its episode and marks) if the item is still at `expected`'s version (or absent).
   * @returns false when another write came first (read again).
   */
  write(expected: TextBackRecord | undefined, next: Omit<TextBackRecord, 'version'>, now: string): Promise<boolean>;
}

export function createTextBackStore(client: DynamoDBDocumentClient, tableName: string): TextBackStore {
  return {
    async read(phone) {
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: textBackKey(phone) }, ConsistentRead: true }));
        return parseTextBackRecord(out.Item);
      } catch (error) {
        if (error instanceof InvalidItemError) throw error;
        throw new TableUnavailableError('The text-back item could not be read', { cause: error });
      }
    },
    async callState(callSid) {
      try {
        const out = await client.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: callKey(callSid) },
            ProjectionExpression: 'direction, outcome',
            ConsistentRead: true,
          }),
        );
        const outcome = out.Item?.outcome;
        return {
          direction: typeof out.Item?.direction === 'string' ? out.Item.direction : undefined,
          answered: typeof outcome === 'string' && outcome !== 'missed',
        };
      } catch (error) {
        throw new TableUnavailableError('The opening call could not be read', { cause: error });
      }
    },
    async write(expected, next, now) {
      const version = (expected?.version ?? 0) + 1;
      const item = { pk: textBackKey(next.phone), type: 'textback', ...next, version, updatedAt: now };
      const episode: TextBackEpisode | undefined = next.episode;
      const counter = episode === undefined ? undefined : textBackCounter(episode);
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: item,
                  ...(expected === undefined
                    ? { ConditionExpression: 'attribute_not_exists(pk)' }
                    : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': expected.version } }),
                },
              },
              ...(counter === undefined || episode === undefined
                ? []
                : [{ Update: addToDay(tableName, episode.openSince.slice(0, 10), ones(counter), now, next.phone) }]),
            ],
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof TransactionCanceledException && cancellationCodes(error)[0] === 'ConditionalCheckFailed') return false;
        throw new TableUnavailableError('The text-back item could not be written', { cause: error });
      }
    },
  };
}
