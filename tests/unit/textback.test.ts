import { describe, expect, it, vi } from 'vitest';
import { eventsOf } from '../../lib/events/facts.js';
import { ConfigError } from '../../lib/platform/config.js';
import { isOpen, parseBusinessHours } from '../../lib/platform/hours.js';
import { type TextBackRecord, textBackCounter } from '../../lib/textback/item.js';
import { decide, type Opening } from '../../lib/textback/model.js';
import { readTextBackSettings } from '../../lib/textback/settings.js';
import { sendFailure } from '../../lib/twilio/errors.js';

const NY = 'America/New_York';
const WEEKDAYS_9_TO_5 = parseBusinessHours('Mon-Fri 09:00-17:00');

describe('business hours', () => {
  it('follow the zone across the spring DST change (2026-03-08, New York)', () => {
    // Friday before: EST, UTC-5. 09:00 local is 14:00Z.
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-06T13:59:00Z'))).toBe(false);
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-06T14:00:00Z'))).toBe(true);
    // Monday after: EDT, UTC-4. 09:00 local is 13:00Z; 17:00 local is 21:00Z.
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-09T12:59:00Z'))).toBe(false);
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-09T13:00:00Z'))).toBe(true);
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-09T20:59:00Z'))).toBe(true);
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-03-09T21:00:00Z'))).toBe(false);
  });

  it('follow the zone across the autumn DST change (2026-11-01), and weekends are closed', () => {
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-10-30T13:00:00Z'))).toBe(true); // Fri 09:00 EDT
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-11-02T13:00:00Z'))).toBe(false); // Mon 08:00 EST
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-11-02T14:00:00Z'))).toBe(true); // Mon 09:00 EST
    expect(isOpen(WEEKDAYS_9_TO_5, NY, new Date('2026-10-31T15:00:00Z'))).toBe(false); // Saturday
  });

  it('read several rules and day lists; none means always open', () => {
    const rules = parseBusinessHours('Mon-Fri 09:00-17:00, Sat+Sun 10:00-12:30');
    expect(isOpen(rules, 'UTC', new Date('2026-12-05T12:29:00Z'))).toBe(true); // Saturday
    expect(isOpen(rules, 'UTC', new Date('2026-12-05T12:30:00Z'))).toBe(false);
    expect(isOpen([], 'UTC', new Date('2026-12-05T03:00:00Z'))).toBe(true);
    expect(isOpen(parseBusinessHours('Mon 00:00-24:00'), 'UTC', new Date('2026-12-07T23:59:00Z'))).toBe(true);
  });

  it.each([
    ['Mon-Fri 9-17', 'is not a time as HH:MM'],
    ['Mon-Fry 09:00-17:00', '"Fry" is not a day'],
    ['Fri-Mon 09:00-17:00', 'runs backwards'],
    ['Mon-Fri 17:00-09:00', 'closes before it opens'],
    ['weekdays', 'is not "<days> HH:MM-HH:MM"'],
  ])('refuse %s with a message that says what is wrong', (value, message) => {
    expect(() => readTextBackSettings({ BUSINESS_HOURS: value })).toThrow(message);
    expect(() => readTextBackSettings({ BUSINESS_HOURS: value })).toThrow(ConfigError);
  });
});

describe('text-back settings', () => {
  it('are off by default with the documented defaults', () => {
    expect(readTextBackSettings({})).toMatchObject({
      enabled: false,
      timeZone: 'UTC',
      cooldownHours: 24,
      maxAgeMinutes: 30,
      messagingServiceSid: undefined,
      hours: [],
    });
  });

  it('refuse a bad zone, switch, Messaging Service SID or message, naming the variable', () => {
    expect(() => readTextBackSettings({ TIME_ZONE: 'Mars/Olympus' })).toThrow('TIME_ZONE: "Mars/Olympus" is not an IANA time zone');
    expect(() => readTextBackSettings({ TEXT_BACK: 'yes' })).toThrow('TEXT_BACK must be on or off');
    expect(() => readTextBackSettings({ TEXT_BACK_MESSAGING_SERVICE_SID: 'MG1' })).toThrow('TEXT_BACK_MESSAGING_SERVICE_SID');
    expect(() => readTextBackSettings({ TEXT_BACK_MESSAGE: 'x'.repeat(321) })).toThrow('TEXT_BACK_MESSAGE must be at most 320');
  });

  it('fail packaging through resources/text-back.cjs, the same code', async () => {
    const { createRequire } = await import('node:module');
    const resolve: () => Promise<Record<string, unknown>> = createRequire(import.meta.url)('../../resources/text-back.cjs');
    vi.stubEnv('TIME_ZONE', 'America/Chicago');
    vi.stubEnv('BUSINESS_HOURS', 'Mon-Fri 08:00-18:00');
    await expect(resolve()).resolves.toMatchObject({ enabled: 'off', ruleState: 'DISABLED', timeZone: 'America/Chicago' });
    vi.stubEnv('BUSINESS_HOURS', 'Mon-Fri 8am-6pm');
    await expect(resolve()).rejects.toThrow('BUSINESS_HOURS');
    vi.unstubAllEnvs();
  });
});

describe('deciding a text-back', () => {
  const settings = readTextBackSettings({ TEXT_BACK: 'on', BUSINESS_HOURS: 'Mon-Fri 09:00-17:00', TIME_ZONE: NY });
  const opening: Opening = { phone: '+14155550142', openSince: '2026-12-02T15:00:00.000Z', line: '+14155559876', callSid: 'CA1' };
  const now = new Date('2026-12-02T15:05:00Z'); // Wednesday 10:05 in New York
  const base = { opening, direction: 'inbound', record: undefined, settings, now };
  const record = (over: Partial<TextBackRecord>): TextBackRecord => ({ phone: opening.phone, version: 3, ...over });

  it('sends the business-hours text from the line, and the after-hours one outside the hours', () => {
    expect(decide(base)).toMatchObject({ kind: 'send', to: opening.phone, from: opening.line, body: settings.message, afterHours: false });
    const evening = new Date('2026-12-02T23:10:00Z');
    expect(decide({ ...base, opening: { ...opening, openSince: '2026-12-02T23:00:00.000Z' }, now: evening })).toMatchObject({
      kind: 'send',
      body: settings.afterHoursMessage,
      afterHours: true,
    });
  });

  it('sends through the Messaging Service when one is set', () => {
    const withService = { ...settings, messagingServiceSid: `MG${'a'.repeat(32)}` };
    expect(decide({ ...base, settings: withService, opening: { ...opening, line: '' } })).toMatchObject({
      kind: 'send',
      from: undefined,
      messagingServiceSid: withService.messagingServiceSid,
    });
  });

  it.each([
    ['a call we placed', { direction: 'outbound-api' }, 'outbound'],
    ['a call whose item is gone', { direction: undefined }, 'outbound'],
    ['an invalid number', { opening: { ...opening, phone: '+1555' } }, 'invalid-number'],
    ['a number that opted out', { record: record({ optedOutAt: '2026-11-01T00:00:00Z' }) }, 'opted-out'],
    ['a landline', { record: record({ notTextable: { reason: 'not-mobile', at: '2026-11-01T00:00:00Z' } }) }, 'not-textable'],
    ['a miss older than 30 minutes', { now: new Date('2026-12-02T15:31:00Z') }, 'too-old'],
    ['a number texted 23 hours ago', { record: record({ lastSentAt: '2026-12-01T16:05:00.000Z' }) }, 'cooldown'],
    ['no line and no Messaging Service', { opening: { ...opening, line: '' } }, 'no-sender'],
  ])('skips %s', (_what, over, reason) => {
    expect(decide({ ...base, ...over })).toEqual({ kind: 'skip', reason });
  });

  it('texts a miss first recorded from its <Dial> leg (outbound-dial): the caller called in', () => {
    expect(decide({ ...base, direction: 'outbound-dial' }).kind).toBe('send');
  });

  it('texts again once the cooldown has passed', () => {
    expect(decide({ ...base, record: record({ lastSentAt: '2026-12-01T15:04:00.000Z' }) }).kind).toBe('send');
  });

  it('sees an opening it settled as a duplicate, and its own unsettled claim as a crash', () => {
    const settled = record({ episode: { openSince: opening.openSince, state: 'sent', messageSid: 'SM1' } });
    expect(decide({ ...base, record: settled })).toEqual({ kind: 'duplicate' });
    const claimed = record({ episode: { openSince: opening.openSince, state: 'claimed', claimedAt: now.toISOString() } });
    expect(decide({ ...base, record: claimed })).toEqual({ kind: 'crashed' });
    const later = record({ episode: { openSince: '2026-12-02T16:00:00.000Z', state: 'skipped', reason: 'cooldown' } });
    expect(decide({ ...base, record: later })).toEqual({ kind: 'duplicate' });
  });

  it('reads Twilio errors: STOP, not mobile, invalid, auth, throttled or down, the rest', () => {
    expect(sendFailure(400, 21610)).toBe('opted-out');
    expect(sendFailure(400, 21614)).toBe('not-mobile');
    expect(sendFailure(400, 21211)).toBe('invalid-number');
    expect(sendFailure(401, 20003)).toBe('auth');
    expect(sendFailure(429, 20429)).toBe('unavailable');
    expect(sendFailure(503, undefined)).toBe('unavailable');
    expect(sendFailure(400, 21602)).toBe('rejected');
  });

  it('counts one counter a settled opening, none for a claim', () => {
    expect(textBackCounter({ openSince: 'x', state: 'sent' })).toBe('textback:sent');
    expect(textBackCounter({ openSince: 'x', state: 'skipped', reason: 'cooldown' })).toBe('textback:skipped:cooldown');
    expect(textBackCounter({ openSince: 'x', state: 'failed', reason: 'opted-out' })).toBe('textback:failed:opted-out');
    expect(textBackCounter({ openSince: 'x', state: 'unknown' })).toBe('textback:unknown');
    expect(textBackCounter({ openSince: 'x', state: 'claimed' })).toBeUndefined();
  });
});

describe('the Text-back sent event', () => {
  const item = (state: string, openSince = '2026-12-02T15:00:00.000Z') => ({
    type: 'textback',
    phone: '+14155550142',
    version: 3,
    episode: { openSince, state, messageSid: 'SM1', sentAt: '2026-12-02T15:00:02.000Z' },
  });

  it('is published when a claim becomes sent, once, with a stable id', () => {
    const events = eventsOf('MODIFY', item('claimed'), item('sent'));
    expect(events).toEqual([
      expect.objectContaining({
        id: 'text-back-sent:+14155550142:2026-12-02T15:00:00.000Z',
        detailType: 'Text-back sent',
        detail: expect.objectContaining({ messageSid: 'SM1', phone: '+14155550142' }),
      }),
    ]);
    expect(eventsOf('MODIFY', item('sent'), item('sent'))).toEqual([]);
    expect(eventsOf('MODIFY', item('claimed'), item('failed'))).toEqual([]);
  });
});
