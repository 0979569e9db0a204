/** The audit trail's entries: masked customers, no e-mail, who did it; an entry that cannot be kept is logged, never thrown. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditEntry, parseAuditEntry, recordAudit } from '../../lib/audit/trail.js';
import type { Person } from '../../lib/auth/caller.js';
import { logger } from '../../lib/platform/log.js';

const ana: Person = { kind: 'person', id: '0b4f6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', name: 'Ana', role: 'agent' };
const AT = new Date('2026-12-06T10:00:00.000Z');

afterEach(() => {
  vi.restoreAllMocks();
  // The tests' level (vitest.config.ts).
  logger.setLogLevel('SILENT');
});

describe('audit entries', () => {
  it('say who, what and when, with the customer masked and empty details left out', () => {
    expect(auditEntry({ action: 'callback.resolved', customer: '+14155550301', detail: {} }, ana, AT, '0123abcd')).toEqual({
      id: '0123abcd',
      at: '2026-12-06T10:00:00.000Z',
      action: 'callback.resolved',
      actor: { kind: 'person', id: ana.id, name: 'Ana' },
      target: { customer: '+*******0301' },
    });
    expect(auditEntry({ action: 'reconcile.started', runId: 'r1' }, { kind: 'machine' }, AT, 'ffffffff')).toMatchObject({
      actor: { kind: 'machine' },
      target: { runId: 'r1' },
    });
  });

  it('reads back what it wrote, and refuses an item whose action is unknown', () => {
    const entry = auditEntry({ action: 'person.changed', person: ana.id, detail: { disabled: true } }, ana, AT, '0123abcd');
    expect(parseAuditEntry({ pk: 'AUDIT#x', type: 'audit', ...entry, gsi1pk: 'AUDIT#log', expiresAt: 1 })).toEqual(entry);
    expect(parseAuditEntry({ type: 'contact' })).toBeUndefined();
    expect(() => parseAuditEntry({ ...entry, type: 'audit', action: 'callback.deleted' })).toThrow('action is not an audit action');
  });

  it('logs an entry it could not keep (no number, no name) and lets the request that did the action succeed', async () => {
    const lines: string[] = [];
    logger.setLogLevel('INFO');
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    const failing = {
      send: async () => {
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
      },
    } as unknown as DynamoDBDocumentClient;
    await expect(
      recordAudit(failing, { tableName: 't', retentionDays: 365 }, ana, { action: 'callback.resolved', customer: '+14155550301' }, AT),
    ).resolves.toBeUndefined();
    const lost = lines.map((line) => JSON.parse(line)).find((line) => line.message === 'Audit entry lost');
    expect(lost).toMatchObject({ level: 'ERROR', action: 'callback.resolved', actor: ana.id });
    expect(lines.join('')).not.toMatch(/0301|Ana/);
  });
});
