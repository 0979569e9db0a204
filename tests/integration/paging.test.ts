/**
 * lib/table/requests.ts `shardedPage` on DynamoDB Local: pages within `since` cover every item
 * once, whatever shard holds them; a page is the last exactly when nothing remains.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACTS_INDEX } from '../../lib/table/keys.js';
import { shardedPage } from '../../lib/table/requests.js';
import { freshTable } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
const SHARDS = ['PAGING#0', 'PAGING#1'];
// Seven items, newest first by sort key: five in the first shard, two (the oldest) in the second.
const KEYS = ['2026-12-07T10:07', '2026-12-07T10:06', '2026-12-07T10:05', '2026-12-07T10:04', '2026-12-07T10:03'].map((sk) => ({
  shard: SHARDS[0],
  sk,
}));
KEYS.push({ shard: SHARDS[1], sk: '2026-12-07T10:02' }, { shard: SHARDS[1], sk: '2026-12-07T10:01' });

beforeAll(async () => {
  table = await freshTable();
  await table.docs.send(
    new BatchWriteCommand({
      RequestItems: {
        [table.tableName]: KEYS.map(({ shard, sk }) => ({ PutRequest: { Item: { pk: `PAGING-ITEM#${sk}`, gsi1pk: shard, gsi1sk: sk } } })),
      },
    }),
  );
});
afterAll(async () => table.drop());

/** Every page of the listing, newest first, `limit` at a time within `since`. */
async function pages(limit: number, since: string | undefined): Promise<string[][]> {
  const out: string[][] = [];
  let after: string | undefined;
  do {
    const { items, continueAfter } = await shardedPage(table.docs, table.tableName, {
      index: CONTACTS_INDEX,
      keys: { pk: 'gsi1pk', sk: 'gsi1sk' },
      shards: SHARDS,
      order: 'descending',
      limit,
      since,
      after,
      what: 'The test index',
    });
    out.push(items.map((item) => String(item.gsi1sk)));
    after = continueAfter;
  } while (after !== undefined && out.length < 10);
  return out;
}

describe('shardedPage', () => {
  it.each([
    // Within since, the cursor's own item comes back with BETWEEN: a page must still see one more.
    [2, '2026-12-07T10:03', [['10:07', '10:06'], ['10:05', '10:04'], ['10:03']]],
    [
      2,
      '2026-12-07T10:04',
      [
        ['10:07', '10:06'],
        ['10:05', '10:04'],
      ],
    ],
    [3, undefined, [['10:07', '10:06', '10:05'], ['10:04', '10:03', '10:02'], ['10:01']]],
    [2, '2026-12-07T10:01', [['10:07', '10:06'], ['10:05', '10:04'], ['10:03', '10:02'], ['10:01']]],
    [7, undefined, [['10:07', '10:06', '10:05', '10:04', '10:03', '10:02', '10:01']]],
  ] as const)('limit %i since %s: every item once, and no page after the last', async (limit, since, expected) => {
    const got = await pages(limit, since);
    expect(got.map((page) => page.map((sk) => sk.slice(11)))).toEqual(expected);
  });
});
