/**
 * Creates the ledger table from `resources/table.yml`, the same file `serverless.yml`
 * includes, so the local stack and the tests use exactly the deployed definition.
 */
import { readFileSync } from 'node:fs';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ResourceInUseException,
  type StreamViewType,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';
import { isRecord } from '../lib/table/items.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, not a template literal.
const CFN_TABLE_NAME = '${self:custom.tableName}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, not a template literal.
const CFN_DELETION_PROTECTION = '${self:custom.tableDeletionProtection}';
const TABLE_FILE = new URL('../resources/table.yml', import.meta.url);

export interface TableDefinition {
  TableName: string;
  GlobalSecondaryIndexes: GlobalSecondaryIndex[];
  AttributeDefinitions: AttributeDefinition[];
  KeySchema: KeySchemaElement[];
  ttlAttribute: string | undefined;
  streamViewType: StreamViewType | undefined;
}

function records(value: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(value) || !value.every(isRecord)) throw new Error(`resources/table.yml: ${what} must be a list of maps`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`resources/table.yml: ${what} must be a string`);
  return value;
}

const STREAM_VIEW_TYPES: readonly StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

function streamViewType(value: unknown): StreamViewType {
  const found = STREAM_VIEW_TYPES.find((type) => type === value);
  if (found === undefined) throw new Error(`resources/table.yml: StreamViewType must be one of ${STREAM_VIEW_TYPES.join(', ')}`);
  return found;
}

/** Reads the CloudFormation table resource, with `${self:custom.tableName}` set to `tableName`. */
export function readTableDefinition(tableName: string): TableDefinition {
  const text = readFileSync(TABLE_FILE, 'utf8').replaceAll(CFN_TABLE_NAME, tableName).replaceAll(CFN_DELETION_PROTECTION, 'false');
  const unresolved = /\$\{[^}]*\}/.exec(text.replace(/#.*$/gm, ''));
  if (unresolved) throw new Error(`resources/table.yml uses ${unresolved[0]}, which the local stack cannot resolve`);
  const doc: unknown = parse(text);
  if (!isRecord(doc) || doc.Type !== 'AWS::DynamoDB::Table' || !isRecord(doc.Properties)) {
    throw new Error('resources/table.yml is not an AWS::DynamoDB::Table resource');
  }
  const p = doc.Properties;
  if (p.BillingMode !== 'PAY_PER_REQUEST') throw new Error('resources/table.yml: the local stack expects BillingMode PAY_PER_REQUEST');
  const ttl = isRecord(p.TimeToLiveSpecification) && p.TimeToLiveSpecification.Enabled === true ? p.TimeToLiveSpecification : undefined;
  const stream = isRecord(p.StreamSpecification) ? p.StreamSpecification : undefined;
  return {
    TableName: str(p.TableName, 'TableName'),
    AttributeDefinitions: records(p.AttributeDefinitions, 'AttributeDefinitions').map((a) => ({
      AttributeName: str(a.AttributeName, 'AttributeName'),
      AttributeType: a.AttributeType === 'N' ? 'N' : a.AttributeType === 'B' ? 'B' : 'S',
    })),
    KeySchema: records(p.KeySchema, 'KeySchema').map((k) => ({
      AttributeName: str(k.AttributeName, 'AttributeName'),
      KeyType: k.KeyType === 'RANGE' ? 'RANGE' : 'HASH',
    })),
    GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes === undefined ? [] : records(p.GlobalSecondaryIndexes, 'GlobalSecondaryIndexes')).map(
      (g) => {
        const projection = isRecord(g.Projection) ? g.Projection : {};
        const nonKey = Array.isArray(projection.NonKeyAttributes)
          ? projection.NonKeyAttributes.map((a) => str(a, 'NonKeyAttributes'))
          : undefined;
        const type =
          projection.ProjectionType === 'KEYS_ONLY' || projection.ProjectionType === 'INCLUDE' ? projection.ProjectionType : 'ALL';
        return {
          IndexName: str(g.IndexName, 'IndexName'),
          KeySchema: records(g.KeySchema, 'KeySchema').map((k) => ({
            AttributeName: str(k.AttributeName, 'AttributeName'),
            KeyType: k.KeyType === 'RANGE' ? 'RANGE' : 'HASH',
          })),
          Projection: { ProjectionType: type, ...(nonKey ? { NonKeyAttributes: nonKey } : {}) },
        };
      },
    ),
    ttlAttribute: ttl === undefined ? undefined : str(ttl.AttributeName, 'TimeToLiveSpecification.AttributeName'),
    streamViewType: stream === undefined ? undefined : streamViewType(stream.StreamViewType),
  };
}

function withoutGsis(def: TableDefinition): TableDefinition {
  const keyAttributes = new Set(def.KeySchema.map((k) => k.AttributeName));
  return {
    ...def,
    GlobalSecondaryIndexes: [],
    AttributeDefinitions: def.AttributeDefinitions.filter((a) => a.AttributeName !== undefined && keyAttributes.has(a.AttributeName)),
  };
}

/** Creates the table (stream and TTL as defined) unless it exists; returns its definition and stream. */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: { withoutIndexes?: boolean } = {},
): Promise<TableDefinition & { streamArn: string | undefined }> {
  const def = await ensureTable(client, tableName, options.withoutIndexes ?? false);
  const described = await client.send(new DescribeTableCommand({ TableName: def.TableName }));
  return { ...def, streamArn: described.Table?.LatestStreamArn };
}

/**
 * `withoutIndexes` drops the GSIs: DynamoDB Local (the jar in amplify-dynamodb-simulator
 * 2.9.30) never TTL-deletes items of a table that has a GSI (measured: an expired item was
 * gone after 1 s without a GSI and still there after 40 s with one), so the tests that need
 * real TTL deletions use the same definition without its indexes. Real DynamoDB has no such
 * limit.
 */
async function ensureTable(client: DynamoDBClient, tableName: string, withoutIndexes: boolean): Promise<TableDefinition> {
  const full = readTableDefinition(tableName);
  const def = withoutIndexes ? withoutGsis(full) : full;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: def.TableName,
        AttributeDefinitions: def.AttributeDefinitions,
        KeySchema: def.KeySchema,
        BillingMode: 'PAY_PER_REQUEST',
        ...(def.GlobalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes: def.GlobalSecondaryIndexes } : {}),
        StreamSpecification: def.streamViewType ? { StreamEnabled: true, StreamViewType: def.streamViewType } : undefined,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    return def;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: def.TableName });
  if (def.ttlAttribute !== undefined) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: def.TableName,
        TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      }),
    );
  }
  return def;
}
