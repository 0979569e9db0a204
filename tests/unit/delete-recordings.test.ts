import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readDeleteRecordings } from '../../lib/recordings/config.js';

describe('DELETE_RECORDINGS', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is true unless set to false, and refuses anything else with its name', () => {
    expect(readDeleteRecordings({})).toBe(true);
    expect(readDeleteRecordings({ DELETE_RECORDINGS: 'false' })).toBe(false);
    expect(readDeleteRecordings({ DELETE_RECORDINGS: 'TRUE' })).toBe(true);
    expect(() => readDeleteRecordings({ DELETE_RECORDINGS: 'keep' })).toThrow('DELETE_RECORDINGS must be true or false, got "keep"');
  });

  it('sets the function and the state of its rule at package time through resources/delete-recordings.cjs, the same code', async () => {
    const resolve: () => Promise<Record<string, unknown>> = createRequire(import.meta.url)('../../resources/delete-recordings.cjs');
    await expect(resolve()).resolves.toEqual({ enabled: 'true', ruleState: 'ENABLED' });
    vi.stubEnv('DELETE_RECORDINGS', 'false');
    await expect(resolve()).resolves.toEqual({ enabled: 'false', ruleState: 'DISABLED' });
    vi.stubEnv('DELETE_RECORDINGS', 'nope');
    await expect(resolve()).rejects.toThrow('DELETE_RECORDINGS must be true or false');
  });
});
