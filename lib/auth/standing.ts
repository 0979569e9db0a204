/**
 * A person's standing: what admins last decided about them (`PATCH /users/{id}`), kept on
 * `PERSON#<sub>` and read on each of their requests (one consistent GetItem), so that a person
 * disabled or demoted loses what they lost at once, not when their token expires (up to an hour:
 * a token is verified without asking Cognito). A person nobody changed has no item: their token's
 * groups stand.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Env } from '../platform/config.js';
import { TableUnavailableError } from '../table/items.js';
import { personKey } from '../table/keys.js';
import { type CallerAuth, ROLES, type Role, tokenVerifier } from './caller.js';
import { readAuthConfig } from './config.js';

export interface Standing {
  role?: Role;
  disabled: boolean;
}

export type ReadStanding = (sub: string) => Promise<Standing | undefined>;

export function standingReader(client: DynamoDBDocumentClient, tableName: string): ReadStanding {
  return async (sub) => {
    let item: Record<string, unknown> | undefined;
    try {
      item = (await client.send(new GetCommand({ TableName: tableName, Key: { pk: personKey(sub) }, ConsistentRead: true }))).Item;
    } catch (error) {
      throw new TableUnavailableError('The person could not be read', { cause: error });
    }
    if (item === undefined) return undefined;
    const role = ROLES.find((r) => r === item?.role);
    return { disabled: item.disabled === true, ...(role === undefined ? {} : { role }) };
  };
}

/** Keeps an admin's decision (after Cognito took it). */
export async function keepStanding(
  client: DynamoDBDocumentClient,
  tableName: string,
  sub: string,
  standing: { role: Role | null; disabled: boolean },
  now: Date,
): Promise<void> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: personKey(sub),
          type: 'person',
          disabled: standing.disabled,
          ...(standing.role === null ? {} : { role: standing.role }),
          updatedAt: now.toISOString(),
        },
      }),
    );
  } catch (error) {
    throw new TableUnavailableError('The person’s standing could not be kept', { cause: error });
  }
}

/** What `identify` needs in a function of the table: the pool from `env` (with its verifier), and people's standing. */
export function callerAuth(env: Env, client: DynamoDBDocumentClient, tableName: string): CallerAuth {
  const config = readAuthConfig(env);
  return { config, verify: config === undefined ? undefined : tokenVerifier(config), standing: standingReader(client, tableName) };
}
