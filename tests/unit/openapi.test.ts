import { describe, expect, it } from 'vitest';
import { responseErrors } from '../openapi.js';

describe('docs/openapi.yaml as a validator', () => {
  it('rejects a stats body that breaks the document (so the end-to-end check can fail)', () => {
    expect(responseErrors('/stats', 'GET', 200, { from: '2026-11-01' }).length).toBeGreaterThan(0);
    expect(
      responseErrors('/health', 'GET', 200, { status: 'ok', checks: { table: { status: 'maybe', latencyMs: 1 } } }).length,
    ).toBeGreaterThan(0);
    expect(responseErrors('/stats', 'GET', 418, {})).toEqual(['GET /stats documents no 418 response']);
  });

  it('accepts a documented error body', () => {
    expect(responseErrors('/stats', 'GET', 400, { message: 'from must be a date as YYYY-MM-DD' })).toEqual([]);
  });
});
